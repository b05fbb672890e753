//! Property tests: no content input makes the loader panic, every run ends in either a
//! site or at least one error, and whatever content passes renders without script from
//! content.

mod common;

use std::collections::HashMap;

use common::*;
use lotse::build;
use lotse::diagnostics::Severity;
use proptest::collection::vec;
use proptest::prelude::*;

// --- strategies ------------------------------------------------------------------

/// Words the loader gives meaning to, so that random documents often get past the
/// syntax and reach the deeper checks.
const WORDS: &[&str] = &[
    "",
    "   ",
    "umwelt",
    "familie-kind",
    "umwlet",
    "*",
    "stadt-a",
    "stadt-b",
    "stadt-c",
    "buergerbuero",
    "ohne-schluessel",
    "basis",
    "land",
    "bund",
    "kommune",
    "low",
    "substantial",
    "high",
    "none",
    "text",
    "textarea",
    "email",
    "tel",
    "date",
    "number",
    "select",
    "radio",
    "checkbox",
    "postcode",
    "iban",
    "dropdown",
    "portal",
    "service",
    "https://example.org/",
    "javascript:alert(1)",
    "99102013000000",
    "123",
    "a-z",
    "themen",
    "#00639c",
    "#ffffff",
    "city",
    "district",
    "Ä",
    "Straße",
    "Zeile\nzwei",
    "\u{0}",
    "<script>alert(1)</script>",
    "AxSD0/FbgrfpxJDtwX/0nFd7cNh0h6bFSWF6IQd8IwM=",
];

const KEYS: &[&str] = &[
    "title",
    "summary",
    "categories",
    "portals",
    "extends",
    "office",
    "provider",
    "url",
    "leika",
    "keywords",
    "documents",
    "fees",
    "deadlines",
    "legal_basis",
    "processing_time",
    "login",
    "description",
    "weight",
    "name",
    "slug",
    "base_url",
    "language",
    "short_name",
    "kind",
    "id",
    "label",
    "type",
    "required",
    "options",
    "min",
    "max",
    "max_length",
    "help",
    "autocomplete",
    "intro",
    "primary",
    "logo",
    "public_key",
    "hours",
    "titel",
    "\"a b\"",
    "\"zeile\\nzwei\"",
    "form.intro",
    "ä",
];

const TABLES: &[&str] = &[
    "[form]",
    "[[form.fields]]",
    "[theme]",
    "[[offices]]",
    "[[categories]]",
    "[login]",
    "[login.acr]",
    "[form.fields]",
    "[[form]]",
];

/// A TOML basic string holding `s`.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_string)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![word(), "\\PC{0,40}", any::<String>()]
}

/// A TOML value of a random type, sometimes not valid TOML at all.
fn toml_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        24 => text().prop_map(|s| quoted(&s)),
        8 => any::<i64>().prop_map(|i| i.to_string()),
        4 => any::<f64>().prop_map(|f| format!("{f:?}")),
        4 => any::<bool>().prop_map(|b| b.to_string()),
        4 => prop::sample::select(&[
            "1979-05-27T07:32:00Z", "1979-05-27", "0x1F", "0o17", "0b101", "+inf", "-nan",
            "1_000", "-0", "'literal'", "\"\"\"\nmehr\nzeilig\"\"\"", "1e300", "[]", "{}",
        ][..])
        .prop_map(str::to_string),
        // not TOML at all
        1 => prop::sample::select(&[
            "", "\"offen", "[", "{", "1.", ".5", "1e400", "99999999999999999999", "wort",
        ][..])
        .prop_map(str::to_string),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            vec((prop::sample::select(KEYS), inner), 0..3).prop_map(|kv| {
                let items: Vec<String> = kv.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", items.join(", "))
            }),
        ]
    })
}

/// Lines of a TOML document: `key = value` pairs and table headers, mostly from the
/// known vocabulary.
fn toml_lines() -> impl Strategy<Value = Vec<String>> {
    let key = prop_oneof![
        16 => prop::sample::select(KEYS).prop_map(str::to_string),
        2 => "[a-z_]{1,10}",
        1 => "\\PC{0,6}",
    ];
    let line = prop_oneof![
        30 => (key, toml_value()).prop_map(|(k, v)| format!("{k} = {v}")),
        4 => prop::sample::select(TABLES).prop_map(str::to_string),
        1 => "\\PC{0,20}",
        1 => Just(String::new()),
    ];
    vec(line, 0..14)
}

/// A Markdown file: optional junk before, `+++` lines in random places, a body with
/// Markdown and raw HTML.
fn markdown_file() -> impl Strategy<Value = Vec<u8>> {
    let prefix =
        prop::sample::select(&["", "", "", "", "", "", "\u{feff}", " ", "\n", "Text\n"][..]);
    let open = prop::sample::select(&["+++\n", "+++\n", "+++\r\n", "+++  \n", "++\n", ""][..]);
    let close = prop::sample::select(&["+++\n", "+++\n", "+++", "+++\r\n", "", "+++\n+++\n"][..]);
    let body = prop_oneof![
        Just(String::new()),
        "\\PC{0,80}",
        vec(
            prop::sample::select(
                &[
                    "# Überschrift\n",
                    "## Kosten\n",
                    "Text mit **fett**.\n",
                    "<script>alert(1)</script>\n",
                    "<img src=x onerror=alert(1)>\n",
                    "[x](javascript:alert(1))\n",
                    "| a | b |\n|---|---|\n| 1 | 2 |\n",
                    "+++\n",
                    "<!--\n",
                    "```\ncode\n",
                    "{#id}\n",
                    "\n",
                ][..]
            ),
            0..8,
        )
        .prop_map(|parts| parts.concat()),
    ];
    // half of the documents start with the required keys, to get past them more often
    let base = prop::sample::select(&[
        "",
        "title = \"Leistung\"\nsummary = \"Kurz.\"\ncategories = [\"umwelt\"]\nportals = [\"*\"]",
        "title = \"Leistung\"\nsummary = \"Kurz.\"\ncategories = [\"umwelt\"]",
        "extends = \"basis\"",
    ][..]);
    (
        prefix,
        open,
        base,
        toml_lines(),
        any::<prop::sample::Index>(),
        prop::bool::weighted(0.2),
        close,
        body,
    )
        .prop_map(
            |(prefix, open, base, lines, at, extra_fence, close, body)| {
                let mut lines = lines;
                if !base.is_empty() {
                    lines.insert(0, base.to_string());
                }
                if extra_fence {
                    let i = at.index(lines.len() + 1);
                    lines.insert(i, "+++".to_string());
                }
                let mut text = String::from(prefix);
                text.push_str(open);
                for line in &lines {
                    text.push_str(line);
                    text.push('\n');
                }
                text.push_str(close);
                text.push_str(&body);
                text.into_bytes()
            },
        )
}

/// The bytes of one file: structured, arbitrary text, or arbitrary bytes.
fn file_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => markdown_file(),
        2 => toml_lines().prop_map(|lines| lines.join("\n").into_bytes()),
        1 => any::<String>().prop_map(String::into_bytes),
        1 => vec(any::<u8>(), 0..200),
        // a valid file with one invalid UTF-8 byte somewhere
        1 => (markdown_file(), any::<prop::sample::Index>()).prop_map(|(mut bytes, at)| {
            let i = at.index(bytes.len() + 1);
            bytes.insert(i, 0xff);
            bytes
        }),
    ]
}

/// Where a fuzzed file goes in the minimal region.
fn file_path() -> impl Strategy<Value = String> {
    let folder = prop::sample::select(
        &[
            "services",
            "pages",
            "portals/stadt-a/services",
            "portals/stadt-a/pages",
            "portals/stadt-b/services",
        ][..],
    );
    let name = prop::sample::select(
        &[
            "fuzz.md",
            "basis.md",
            "Ärger-Straße.md",
            "a-z.md",
            "themen.md",
            "——.md",
            "notiz.txt",
            ".versteckt.md",
            "stadt-a.md",
            "assets.md",
        ][..],
    );
    let config = prop::sample::select(
        &[
            "region.toml",
            "categories.toml",
            "portals/stadt-b/portal.toml",
            "portals/Neue Stadt/portal.toml",
            "portals/api/portal.toml",
            "portals/stadt-a/services/unter/ordner.md",
        ][..],
    );
    prop_oneof![
        4 => (folder, name).prop_map(|(f, n)| format!("{f}/{n}")),
        1 => config.prop_map(str::to_string),
    ]
}

// --- properties ----------------------------------------------------------------------

fn check_never_panics(files: &[(String, Vec<u8>)]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    minimal_region(dir.path());
    for (path, bytes) in files {
        write(dir.path(), path, bytes);
    }
    let (site, diags) = build::check(dir.path());
    let has_error = diags.iter().any(|d| d.severity == Severity::Error);
    prop_assert!(
        site.is_some() != has_error,
        "either a site or an error: site={} diagnostics={:#?}",
        site.is_some(),
        lines(&diags)
    );
    for d in &diags {
        prop_assert!(d.loc.line >= 1 && d.loc.column >= 1, "{d}");
        prop_assert!(!d.message.trim().is_empty(), "{d}");
    }
    // a second run reports the same
    let again = build::check(dir.path()).1;
    prop_assert_eq!(lines(&again), lines(&diags));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_content_makes_the_loader_panic(files in vec((file_path(), file_bytes()), 1..4)) {
        check_never_panics(&files)?;
    }

    #[test]
    fn arbitrary_service_front_matter_never_panics(doc in markdown_file()) {
        check_never_panics(&[("services/fuzz.md".to_string(), doc)])?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn markdown_never_emits_script_or_event_handlers(body in markdown_body()) {
        let html = lotse::markdown::render(&body);
        assert_safe_html(&html)?;
    }
}

// --- rendering what passes ------------------------------------------------------------

fn markdown_body() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "\\PC{0,30}",
        prop::sample::select(
            &[
                "<script>alert(1)</script>",
                "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
                "<img src=x onerror=alert(1)>",
                "<svg onload=alert(1)>",
                "<a href=\"javascript:alert(1)\">a</a>",
                "<a href=\" JaVaScRiPt:alert(1)\">b</a>",
                "[c](javascript:alert(1))",
                "[d](  javascript:alert(1) )",
                "[e](JAVASCRIPT:alert(1))",
                "![f](javascript:alert(1))",
                "[g](data:text/html,<script>alert(1)</script>)",
                "<iframe src=\"https://evil.example\"></iframe>",
                "<style>body{}</style>",
                "<p style=\"x\" onclick=\"y\">p</p>",
                "<!-- Kommentar -->",
                "<details open ontoggle=alert(1)>",
                "[h]: javascript:alert(1)\n\n[h]",
                "<a href=\"vbscript:msgbox(1)\">i</a>",
                "&lt;script&gt;",
                "`<script>`",
                "\n\n",
                "# Titel\n",
                "<form action=\"https://evil.example\"><input></form>",
                "<object data=x></object>",
                "<math><mi xlink:href=\"javascript:alert(1)\">m</mi></math>",
                "<base href=\"https://evil.example/\">",
                "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
            ][..]
        )
        .prop_map(str::to_string),
    ];
    vec(piece, 0..8).prop_map(|parts| parts.concat())
}

/// No executable script and no script URL in any tag (the JSON-LD block excepted).
fn assert_safe_html(html: &str) -> Result<(), TestCaseError> {
    let without_jsonld = strip_jsonld(html);
    for tag in tags(&without_jsonld) {
        prop_assert!(
            !["script", "iframe", "object", "embed", "style", "base", "meta", "form"]
                .contains(&tag.name.as_str())
                || html.starts_with("<!DOCTYPE"),
            "<{}> in {html}",
            tag.name
        );
        // The theme's own scripts (search.js on the search pages) are allowed.
        prop_assert!(
            tag.name != "script"
                || tag
                    .get("src")
                    .is_some_and(|src| src.starts_with("/assets/")),
            "<script> in {html}"
        );
        for (name, value) in &tag.attrs {
            prop_assert!(!name.starts_with("on"), "event handler {name} in {html}");
            let squeezed: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            prop_assert!(
                !squeezed.starts_with("javascript:")
                    && !squeezed.starts_with("vbscript:")
                    && !squeezed.starts_with("data:"),
                "{name}={value} in {html}"
            );
        }
    }
    Ok(())
}

fn strip_jsonld(html: &str) -> String {
    const OPEN: &str = "<script type=\"application/ld+json\">";
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        rest = &rest[i + OPEN.len()..];
        match rest.find("</script>") {
            Some(j) => rest = &rest[j + "</script>".len()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any title, summary, keywords and body that pass `check` render into pages with no
    /// script from content, and JSON-LD that parses back to the same title.
    #[test]
    fn content_that_passes_check_renders_safely(
        title in "[A-Za-zÄÖÜäöüß][\\PC]{0,30}",
        summary in "\\PC{1,60}",
        keyword in "\\PC{0,20}",
        body in markdown_body(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        minimal_region(dir.path());
        write(
            dir.path(),
            "services/leistung.md",
            format!(
                "+++\ntitle = {}\nsummary = {}\ncategories = [\"umwelt\"]\nportals = [\"*\"]\nkeywords = [{}]\n+++\n{}",
                quoted(&title), quoted(&summary), quoted(&keyword), body
            ),
        );
        write(dir.path(), "pages/hinweis.md", format!("+++\ntitle = {}\n+++\n{}", quoted(&title), body));
        let (site, diags) = build::check(dir.path());
        let Some(site) = site else {
            // blank after trimming: that is an error, and fine
            prop_assert!(title.trim().is_empty() || summary.trim().is_empty(), "{:#?}", lines(&diags));
            return Ok(());
        };
        drop(site);
        let out = dir.path().join("dist");
        match build::build(dir.path(), &theme_dir(), &out, false)
            .map_err(|e| TestCaseError::fail(format!("{e:#}")))?
        {
            build::BuildOutcome::Built(..) => {}
            build::BuildOutcome::Invalid(d) => {
                return Err(TestCaseError::fail(format!("check passed, build did not: {:#?}", lines(&d))))
            }
        }
        let files: HashMap<String, Vec<u8>> = snapshot(&out)
            .into_iter()
            .map(|(p, b)| (p.to_string_lossy().replace('\\', "/"), b))
            .collect();
        let page = String::from_utf8(files["stadt-a/leistung/index.html"].clone()).unwrap();
        for (path, bytes) in &files {
            // The caseworkers' workspace (amt/) shows no content and loads its own
            // modules from /amt/ (tests/workspace_output.rs).
            if path.ends_with(".html") && !path.starts_with("amt/") {
                assert_safe_html(&String::from_utf8_lossy(bytes))?;
            }
        }
        let open = "<script type=\"application/ld+json\">";
        let start = page.find(open).unwrap() + open.len();
        let end = start + page[start..].find("</script>").unwrap();
        let json: serde_json::Value = serde_json::from_str(&page[start..end])
            .map_err(|e| TestCaseError::fail(format!("JSON-LD: {e}")))?;
        prop_assert_eq!(json["name"].as_str(), Some(title.trim()));
    }
}

// --- regressions: each of these once got through ----------------------------------------

/// With heading attributes (`{#id .class key=value}`) enabled, pulldown-cmark writes every
/// `key=value` as an HTML attribute, and without raw HTML in the body the sanitizer does
/// not run: `## Titel {onclick=alert(1)}` became `<h2 id="titel" onclick="alert(1)">`.
#[test]
fn heading_attributes_cannot_add_event_handlers() {
    for body in [
        "## Titel {onclick=alert(1)}",
        "Setext {onmouseover=alert(2)}\n===",
        "## Titel {#x .y style=position:fixed}",
    ] {
        let html = lotse::markdown::render(body);
        for tag in tags(&html) {
            for name in tag.attrs.keys() {
                assert!(
                    !name.starts_with("on") && name != "style",
                    "{body:?} -> {html}"
                );
            }
        }
    }
}

/// A title containing `<!--<script>` inside the JSON-LD script element puts the HTML
/// parser into the "script data double escaped" state, in which the closing `</script>`
/// no longer ends the element and the rest of the page is swallowed.
#[test]
fn json_ld_cannot_open_an_html_comment() {
    let dir = tempfile::tempdir().unwrap();
    minimal_region(dir.path());
    write(
        dir.path(),
        "services/leistung.md",
        "+++\ntitle = \"Hund <!--<script> anmelden\"\nsummary = \"s\"\ncategories = [\"umwelt\"]\nportals = [\"*\"]\n+++\nText\n",
    );
    let out = dir.path().join("dist");
    assert!(matches!(
        build::build(dir.path(), &theme_dir(), &out, false).unwrap(),
        build::BuildOutcome::Built(..)
    ));
    let page = std::fs::read_to_string(out.join("stadt-a/leistung/index.html")).unwrap();
    let open = "<script type=\"application/ld+json\">";
    let start = page.find(open).unwrap() + open.len();
    let end = start + page[start..].find("</script>").unwrap();
    let json = &page[start..end];
    assert!(
        !json.contains("<!--") && !json.contains("<script"),
        "{json}"
    );
}
