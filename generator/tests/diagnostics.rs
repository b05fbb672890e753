//! Every class of content diagnostic: a minimal region in a temporary folder, one thing
//! broken, and the exact `path:line:column: severity: message` line it must produce.
//! Also: all errors of a run are reported, and the CLI prints them and exits 1.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::*;
use lotse::build;
use lotse::diagnostics::Diagnostic;

/// A region in a temporary folder, valid until a test breaks it.
struct Region {
    dir: tempfile::TempDir,
}

impl Region {
    fn new() -> Region {
        let dir = tempfile::tempdir().unwrap();
        minimal_region(dir.path());
        Region { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> &Region {
        write(self.root(), rel, text);
        self
    }

    fn append(&self, rel: &str, text: &str) -> &Region {
        let path = self.root().join(rel);
        let mut old = fs::read_to_string(&path).unwrap();
        old.push_str(text);
        fs::write(path, old).unwrap();
        self
    }

    fn remove(&self, rel: &str) -> &Region {
        fs::remove_file(self.root().join(rel)).unwrap();
        self
    }

    /// Runs `check`; returns whether a site came out, and the printed diagnostics.
    fn check(&self) -> (bool, Vec<Diagnostic>) {
        let (site, diags) = build::check(self.root());
        (site.is_some(), diags)
    }

    /// The line the CLI prints for a diagnostic at `rel:line:column`.
    fn line(&self, rel: &str, line: u32, column: u32, severity: &str, message: &str) -> String {
        format!(
            "{}:{line}:{column}: {severity}: {message}",
            self.root().join(rel).display()
        )
    }

    /// Checks and asserts that the region fails with exactly these errors (warnings
    /// are not compared).
    fn assert_errors(&self, expected: &[String]) {
        let (ok, diags) = self.check();
        let mut got = error_lines(&diags);
        let mut want = expected.to_vec();
        got.sort();
        want.sort();
        assert_eq!(
            got,
            want,
            "\nall diagnostics:\n{}\n",
            lines(&diags).join("\n")
        );
        assert!(!ok, "a region with errors must not produce a site");
    }

    /// Checks and asserts that `expected` is among the errors.
    fn assert_reports(&self, expected: &str) {
        let (ok, diags) = self.check();
        let printed = lines(&diags);
        assert!(
            printed.iter().any(|l| l == expected),
            "\nexpected: {expected}\ngot:\n{}\n",
            printed.join("\n")
        );
        if expected.contains(": error: ") {
            assert!(!ok, "a region with errors must not produce a site");
        }
    }

    /// Checks and asserts a site with exactly these warnings and no error.
    fn assert_warnings(&self, expected: &[String]) {
        let (ok, diags) = self.check();
        assert_eq!(error_lines(&diags), Vec::<String>::new());
        assert!(ok);
        let mut got = warning_lines(&diags);
        let mut want = expected.to_vec();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }
}

/// A local service file (no `portals`) with extra TOML lines from line 5 on.
fn local_service(extra: &str) -> String {
    format!(
        "+++\ntitle = \"Lokale Leistung\"\nsummary = \"Nur hier.\"\ncategories = [\"umwelt\"]\n{extra}+++\n\nText.\n"
    )
}

/// A regional service with a form: one valid required text field `name` (lines 8-12),
/// then `fields` from line 14 on.
fn form_service(fields: &str) -> String {
    format!(
        r#"+++
title = "Antrag"
summary = "Ein Antrag zum Testen."
categories = ["umwelt"]
portals = ["*"]
office = "buergerbuero"

[[form.fields]]
id = "name"
label = "Name"
type = "text"
required = true

{fields}+++

Text.
"#
    )
}

const FORM: &str = "services/antrag.md";
const SERVICE: &str = "services/leistung.md";

// ---------------------------------------------------------------------------

#[test]
fn minimal_region_is_clean() {
    let region = Region::new();
    let (ok, diags) = region.check();
    assert!(ok);
    assert_eq!(lines(&diags), Vec::<String>::new());
    region.write(FORM, form_service(""));
    let (ok, diags) = region.check();
    assert!(ok, "{:?}", lines(&diags));
    assert_eq!(lines(&diags), Vec::<String>::new());
}

// --- syntax ----------------------------------------------------------------

#[test]
fn toml_syntax_error_in_front_matter() {
    let region = Region::new();
    region.write(
        SERVICE,
        "+++\ntitle = \"Hund\"\nsummary = \ncategories = [\"umwelt\"]\n+++\n",
    );
    let (ok, diags) = region.check();
    assert!(!ok);
    let errors = error_lines(&diags);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let prefix = region.line(SERVICE, 3, 11, "error", "invalid TOML: ");
    assert!(errors[0].starts_with(&prefix), "{}", errors[0]);
}

#[test]
fn toml_syntax_errors_in_config_files() {
    for (file, text, line, column) in [
        ("region.toml", "name = \"X\"\nslug = x\n", 2, 8),
        ("categories.toml", "[[categories]\nid = \"a\"\n", 1, 14),
        (
            "portals/stadt-b/portal.toml",
            "name = \"B\"\nkind = \"city\n",
            2,
            13,
        ),
    ] {
        let region = Region::new();
        region.write(file, text);
        let (ok, diags) = region.check();
        assert!(!ok, "{file}");
        let prefix = region.line(file, line, column, "error", "invalid TOML: ");
        assert!(
            error_lines(&diags).iter().any(|e| e.starts_with(&prefix)),
            "{file}: expected {prefix}\n{}",
            lines(&diags).join("\n")
        );
    }
}

#[test]
fn missing_front_matter() {
    let region = Region::new();
    region.write(SERVICE, "# Hund anmelden\n\nKein Kopf.\n");
    region.assert_errors(&[region.line(
        SERVICE,
        1,
        1,
        "error",
        "the file must start with TOML front matter between `+++` lines",
    )]);
}

#[test]
fn unclosed_front_matter() {
    let region = Region::new();
    region.write(
        SERVICE,
        "+++\ntitle = \"Hund\"\nsummary = \"x\"\ncategories = [\"umwelt\"]\n\nText\n",
    );
    region.assert_errors(&[region.line(
        SERVICE,
        1,
        1,
        "error",
        "the front matter opened with `+++` is never closed by a second `+++` line",
    )]);
    // the same for pages
    let region = Region::new();
    region.write("pages/impressum.md", "+++\ntitle = \"Impressum\"\n");
    region.assert_errors(&[region.line(
        "pages/impressum.md",
        1,
        1,
        "error",
        "the front matter opened with `+++` is never closed by a second `+++` line",
    )]);
}

#[test]
fn invalid_utf8_and_missing_files() {
    let region = Region::new();
    region.write(SERVICE, b"+++\ntitle = \"Stra\xdfe\"\n+++\n");
    region.assert_errors(&[region.line(SERVICE, 1, 1, "error", "not valid UTF-8 text")]);

    let region = Region::new();
    region.remove("categories.toml");
    let (ok, diags) = region.check();
    assert!(!ok);
    let errors = error_lines(&diags);
    assert!(errors.contains(&region.line("categories.toml", 1, 1, "error", "file not found")));
    // the services that name categories are reported too, not only the first problem
    assert!(errors.contains(&region.line(
        "services/basis.md",
        4,
        15,
        "error",
        "unknown category `familie-kind`: not defined in categories.toml"
    )));

    let region = Region::new();
    region.remove("region.toml");
    region.assert_errors(&[region.line("region.toml", 1, 1, "error", "file not found")]);

    let region = Region::new();
    region.remove("portals/stadt-b/portal.toml");
    region.assert_reports(&region.line(
        "portals/stadt-b/portal.toml",
        1,
        1,
        "error",
        "file not found",
    ));
}

// --- keys ------------------------------------------------------------------

#[test]
fn missing_required_keys_of_a_service() {
    let region = Region::new();
    region.write(SERVICE, "+++\nportals = [\"*\"]\n+++\n\nText\n");
    region.assert_errors(&[
        region.line(
            SERVICE,
            2,
            1,
            "error",
            "missing required key `title` in service front matter",
        ),
        region.line(
            SERVICE,
            2,
            1,
            "error",
            "missing required key `summary` in service front matter",
        ),
        region.line(
            SERVICE,
            2,
            1,
            "error",
            "missing required key `categories` in service front matter",
        ),
    ]);
}

#[test]
fn empty_required_values() {
    let region = Region::new();
    region.write(
        SERVICE,
        "+++\ntitle = \"  \"\nsummary = \"s\"\ncategories = []\nportals = [\"*\"]\n+++\nText\n",
    );
    region.assert_errors(&[
        region.line(SERVICE, 2, 9, "error", "`title` must not be empty"),
        region.line(
            SERVICE,
            2,
            1,
            "error",
            "`categories` needs at least one category id",
        ),
    ]);
}

#[test]
fn missing_required_keys_of_config_files_and_pages() {
    let region = Region::new();
    region.write("region.toml", "name = \"X\"\nlanguage = \"de\"\n");
    region.assert_errors(&[
        region.line(
            "region.toml",
            1,
            1,
            "error",
            "missing required key `slug` in region.toml",
        ),
        region.line(
            "region.toml",
            1,
            1,
            "error",
            "missing required key `base_url` in region.toml",
        ),
    ]);

    let region = Region::new();
    region.write(
        "portals/stadt-b/portal.toml",
        "name = \"Stadt B\"\n\n[[offices]]\nname = \"Amt\"\n",
    );
    let (ok, diags) = region.check();
    assert!(!ok);
    let errors = error_lines(&diags);
    let portal = "portals/stadt-b/portal.toml";
    for expected in [
        region.line(
            portal,
            1,
            1,
            "error",
            "missing required key `short_name` in portal.toml",
        ),
        region.line(
            portal,
            1,
            1,
            "error",
            "missing required key `kind` in portal.toml",
        ),
        region.line(
            portal,
            3,
            1,
            "error",
            "missing required key `id` in [[offices]]",
        ),
    ] {
        assert!(errors.contains(&expected), "{expected}\n{errors:#?}");
    }

    let region = Region::new();
    region.write(
        "portals/stadt-a/pages/impressum.md",
        "+++\nweight = 1\n+++\n\nText\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-a/pages/impressum.md",
        2,
        1,
        "error",
        "missing required key `title` in page front matter",
    )]);

    let region = Region::new();
    region.write("categories.toml", "[[categories]]\nid = \"umwelt\"\n");
    let (ok, diags) = region.check();
    assert!(!ok);
    assert!(error_lines(&diags).contains(&region.line(
        "categories.toml",
        1,
        1,
        "error",
        "missing required key `title` in [[categories]]"
    )));
}

#[test]
fn unknown_key_suggests_the_known_one() {
    let region = Region::new();
    region.write(
        SERVICE,
        "+++\ntitel = \"Hund anmelden\"\nsummary = \"s\"\ncategories = [\"umwelt\"]\nportals = [\"*\"]\nfess = \"10 Euro\"\nfarbe = \"blau\"\n+++\nText\n",
    );
    region.assert_errors(&[
        region.line(
            SERVICE,
            2,
            1,
            "error",
            "unknown key `titel` in service front matter; did you mean `title`?",
        ),
        region.line(
            SERVICE,
            2,
            1,
            "error",
            "missing required key `title` in service front matter",
        ),
        region.line(
            SERVICE,
            6,
            1,
            "error",
            "unknown key `fess` in service front matter; did you mean `fees`?",
        ),
        // nothing close: no suggestion
        region.line(
            SERVICE,
            7,
            1,
            "error",
            "unknown key `farbe` in service front matter",
        ),
    ]);
}

#[test]
fn unknown_keys_in_nested_tables_and_config_files() {
    let region = Region::new();
    region.write(
        FORM,
        form_service("[[form.fields]]\nid = \"plz\"\nlable = \"PLZ\"\ntype = \"postcode\"\n"),
    );
    region.assert_errors(&[
        region.line(
            FORM,
            16,
            1,
            "error",
            "unknown key `lable` in form field; did you mean `label`?",
        ),
        region.line(
            FORM,
            14,
            1,
            "error",
            "missing required key `label` in form field",
        ),
    ]);

    let region = Region::new();
    region.append("portals/stadt-b/portal.toml", "pubilc_key = \"x\"\n");
    region.assert_errors(&[region.line(
        "portals/stadt-b/portal.toml",
        9,
        1,
        "error",
        "unknown key `pubilc_key` in [[offices]]; did you mean `public_key`?",
    )]);

    let region = Region::new();
    region.append("region.toml", "bas_url = \"https://x.example\"\n");
    region.assert_errors(&[region.line(
        "region.toml",
        5,
        1,
        "error",
        "unknown key `bas_url` in region.toml; did you mean `base_url`?",
    )]);

    let region = Region::new();
    region.write(
        "pages/impressum.md",
        "+++\ntitle = \"Impressum\"\ngewicht = 2\n+++\n\nText\n",
    );
    region.assert_errors(&[region.line(
        "pages/impressum.md",
        3,
        1,
        "error",
        "unknown key `gewicht` in page front matter",
    )]);
}

#[test]
fn wrong_value_types() {
    let region = Region::new();
    region.write(
        SERVICE,
        "+++\ntitle = 5\nsummary = \"s\"\ncategories = \"umwelt\"\nportals = [\"*\", 3]\nfees = 10\nlogin = true\n+++\nText\n",
    );
    region.assert_errors(&[
        region.line(
            SERVICE,
            2,
            9,
            "error",
            "`title` must be a string, found integer",
        ),
        region.line(
            SERVICE,
            4,
            14,
            "error",
            "`categories` must be a list of strings, found string",
        ),
        region.line(
            SERVICE,
            5,
            17,
            "error",
            "`portals` must be a list of strings, found integer",
        ),
        region.line(
            SERVICE,
            6,
            8,
            "error",
            "`fees` must be a list of strings, found integer",
        ),
        region.line(
            SERVICE,
            7,
            9,
            "error",
            "`login` must be a string, found boolean",
        ),
    ]);

    let region = Region::new();
    region.write(
        FORM,
        form_service(
            "[[form.fields]]\nid = \"anzahl\"\nlabel = \"Anzahl\"\ntype = \"number\"\nrequired = \"ja\"\nmin = \"eins\"\n",
        ),
    );
    region.assert_errors(&[
        region.line(
            FORM,
            18,
            12,
            "error",
            "`required` must be true or false, found string",
        ),
        region.line(
            FORM,
            19,
            7,
            "error",
            "`min` must be a finite number, found string",
        ),
    ]);

    let region = Region::new();
    region.write(
        FORM,
        form_service(
            "[[form.fields]]\nid = \"text\"\nlabel = \"Text\"\ntype = \"text\"\nmax_length = -3\n",
        ),
    );
    region.assert_errors(&[region.line(
        FORM,
        18,
        14,
        "error",
        "`max_length` must be a positive whole number, found integer",
    )]);

    let region = Region::new();
    region.append("portals/stadt-b/portal.toml", "hours = 8\n");
    region.assert_errors(&[region.line(
        "portals/stadt-b/portal.toml",
        9,
        9,
        "error",
        "`hours` must be a list of strings, found integer",
    )]);
}

#[test]
fn unknown_enumeration_values_suggest_the_known_one() {
    let region = Region::new();
    region.write(
        SERVICE,
        service("provider = \"bundd\"\nlogin = \"substantiall\"\n"),
    );
    region.assert_errors(&[
        region.line(
            SERVICE,
            6,
            12,
            "error",
            "unknown provider `bundd`; expected one of kommune, land, bund; did you mean `bund`?",
        ),
        region.line(
            SERVICE,
            7,
            9,
            "error",
            "unknown login level `substantiall`; expected one of none, low, substantial, high; did you mean `substantial`?",
        ),
    ]);

    let region = Region::new();
    region.write(
        "portals/stadt-b/portal.toml",
        "name = \"B\"\nshort_name = \"B\"\nkind = \"dorf\"\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-b/portal.toml",
        3,
        8,
        "error",
        "unknown portal kind `dorf`; expected `city` or `district`",
    )]);
}

#[test]
fn invalid_addresses_and_keys() {
    let region = Region::new();
    region.write(SERVICE, service("url = \"www.example.org\"\n"));
    region.assert_errors(&[region.line(
        SERVICE,
        6,
        7,
        "error",
        "`url` must be an absolute http(s) address",
    )]);

    let region = Region::new();
    region.write(
        "region.toml",
        "name = \"X\"\nslug = \"x\"\nbase_url = \"www.x.example\"\nlanguage = \"de\"\n",
    );
    region.assert_errors(&[region.line(
        "region.toml",
        3,
        12,
        "error",
        "`base_url` must be an absolute http(s) address",
    )]);

    let region = Region::new();
    region.append(
        "portals/stadt-b/portal.toml",
        "\n[[offices]]\nid = \"kurz\"\nname = \"Kurzer Schlüssel\"\npublic_key = \"AAAA\"\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-b/portal.toml",
        13,
        14,
        "error",
        "`public_key` must be a 32-byte X25519 public key in base64 (as printed by `lotse keys new`)",
    )]);
}

#[test]
fn ids_must_be_slugs_and_unique() {
    let region = Region::new();
    region.append(
        "categories.toml",
        "\n[[categories]]\nid = \"Umwelt & Natur\"\ntitle = \"U\"\n\n[[categories]]\nid = \"umwelt\"\ntitle = \"Doppelt\"\n",
    );
    region.assert_errors(&[
        region.line(
            "categories.toml",
            10,
            6,
            "error",
            "category id `Umwelt & Natur` must be a slug (lowercase a-z, 0-9 and -), e.g. `umwelt-natur`",
        ),
        region.line(
            "categories.toml",
            14,
            6,
            "error",
            &format!(
                "duplicate category id `umwelt` (first defined at {}:6:6)",
                region.root().join("categories.toml").display()
            ),
        ),
    ]);

    let region = Region::new();
    region.append(
        "portals/stadt-b/portal.toml",
        "\n[[offices]]\nid = \"buergerbuero\"\nname = \"Nochmal\"\n\n[[offices]]\nid = \"Amt 2\"\nname = \"Amt\"\n",
    );
    let portal = "portals/stadt-b/portal.toml";
    region.assert_errors(&[
        region.line(
            portal,
            11,
            6,
            "error",
            &format!(
                "duplicate office id `buergerbuero` (first defined at {}:6:6)",
                region.root().join(portal).display()
            ),
        ),
        region.line(
            portal,
            15,
            6,
            "error",
            "office id `Amt 2` must be a slug (lowercase a-z, 0-9 and -)",
        ),
    ]);

    let region = Region::new();
    region.write("categories.toml", "# leer\n");
    region.assert_reports(&region.line(
        "categories.toml",
        1,
        1,
        "error",
        "categories.toml defines no `[[categories]]`",
    ));
}

// --- cross-file references ---------------------------------------------------

#[test]
fn unknown_category_suggests_the_closest() {
    let region = Region::new();
    region.write(
        SERVICE,
        "+++\ntitle = \"T\"\nsummary = \"s\"\ncategories = [\"umwlet\", \"verkehr\"]\nportals = [\"*\"]\n+++\nText\n",
    );
    region.assert_errors(&[
        region.line(
            SERVICE,
            4,
            15,
            "error",
            "unknown category `umwlet`: not defined in categories.toml; did you mean `umwelt`?",
        ),
        region.line(
            SERVICE,
            4,
            25,
            "error",
            "unknown category `verkehr`: not defined in categories.toml",
        ),
    ]);
}

#[test]
fn unknown_office_is_reported_for_each_portal_offering_the_service() {
    let region = Region::new();
    region.write(SERVICE, service("office = \"standesamt\"\n"));
    region.assert_errors(&[
        region.line(
            SERVICE,
            6,
            10,
            "error",
            "office `standesamt` does not exist in portal `stadt-a`, which offers this service",
        ),
        region.line(
            SERVICE,
            6,
            10,
            "error",
            "office `standesamt` does not exist in portal `stadt-b`, which offers this service",
        ),
    ]);

    // an office only one portal has; with a suggestion for the typo
    let region = Region::new();
    region.write(
        SERVICE,
        service("office = \"buergerburo\"\n").replace("[\"*\"]", "[\"stadt-b\"]"),
    );
    region.assert_errors(&[region.line(
        SERVICE,
        6,
        10,
        "error",
        "office `buergerburo` does not exist in portal `stadt-b`, which offers this service; did you mean `buergerbuero`?",
    )]);

    // an override's office is looked up in its own portal
    let region = Region::new();
    region.write(
        "portals/stadt-b/services/basis.md",
        "+++\nextends = \"basis\"\noffice = \"ohne-schluessel\"\n+++\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-b/services/basis.md",
        3,
        10,
        "error",
        "office `ohne-schluessel` does not exist in portal `stadt-b`, which offers this service",
    )]);
}

#[test]
fn unknown_portal_in_portals() {
    let region = Region::new();
    region.write(
        SERVICE,
        service("").replace("[\"*\"]", "[\"stadt-a\", \"stat-b\", \"bottrop\"]"),
    );
    region.assert_errors(&[
        region.line(
            SERVICE,
            5,
            23,
            "error",
            "unknown portal `stat-b`: there is no content/portals/stat-b/portal.toml; did you mean `stadt-b`?",
        ),
        region.line(
            SERVICE,
            5,
            33,
            "error",
            "unknown portal `bottrop`: there is no content/portals/bottrop/portal.toml",
        ),
    ]);
}

#[test]
fn unknown_extends_target() {
    let region = Region::new();
    let file = "portals/stadt-a/services/basis-lokal.md";
    region.write(file, "+++\nextends = \"bassis\"\nfees = \"5 Euro\"\n+++\n");
    region.assert_errors(&[region.line(
        file,
        2,
        11,
        "error",
        "`extends` names `bassis`, but there is no regional service of that slug; did you mean `basis`?",
    )]);
}

#[test]
fn layer_rules_for_extends_and_portals() {
    let region = Region::new();
    region.write(SERVICE, service("extends = \"basis\"\n"));
    region.assert_errors(&[region.line(
        SERVICE,
        6,
        11,
        "error",
        "`extends` is only allowed in a portal's local service file",
    )]);

    let region = Region::new();
    let file = "portals/stadt-a/services/lokal.md";
    region.write(file, local_service("portals = [\"stadt-a\"]\n"));
    region.assert_errors(&[region.line(
        file,
        5,
        12,
        "error",
        "`portals` is only allowed in a regional service file; a local file belongs to its portal",
    )]);

    // also when the list is empty
    let region = Region::new();
    region.write(file, local_service("portals = []\n"));
    let (ok, diags) = region.check();
    assert!(!ok, "`portals = []` in a local file: {:?}", lines(&diags));
    assert!(error_lines(&diags)[0].contains(
        "error: `portals` is only allowed in a regional service file; a local file belongs to its portal"
    ));

    // overriding the same service twice in one portal
    let region = Region::new();
    region.write(
        "portals/stadt-a/services/basis.md",
        "+++\nextends = \"basis\"\nfees = \"1 Euro\"\n+++\n",
    );
    region.write(
        "portals/stadt-a/services/basis-zwei.md",
        "+++\nextends = \"basis\"\nfees = \"2 Euro\"\n+++\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-a/services/basis.md",
        2,
        11,
        "error",
        &format!(
            "`basis` is already overridden in this portal at {}:2:11",
            region
                .root()
                .join("portals/stadt-a/services/basis-zwei.md")
                .display()
        ),
    )]);
}

#[test]
fn land_and_bund_services_need_url_and_no_form() {
    let region = Region::new();
    region.write(SERVICE, service("provider = \"bund\"\n"));
    region.assert_errors(&[region.line(
        SERVICE,
        6,
        12,
        "error",
        "a `bund` service needs `url`, the address of its online service",
    )]);

    let region = Region::new();
    region.write(SERVICE, service("provider = \"land\"\n"));
    region.assert_errors(&[region.line(
        SERVICE,
        6,
        12,
        "error",
        "a `land` service needs `url`, the address of its online service",
    )]);

    let region = Region::new();
    region.write(
        FORM,
        form_service("").replace(
            "office = \"buergerbuero\"\n",
            "provider = \"land\"\nurl = \"https://land.example\"\n",
        ),
    );
    region.assert_errors(&[region.line(
        FORM,
        9,
        3,
        "error",
        "state and federal services link to their own online service; remove `[form]`",
    )]);
}

#[test]
fn office_receiving_a_form_needs_a_public_key() {
    let region = Region::new();
    region.write(
        FORM,
        form_service("")
            .replace("[\"*\"]", "[\"stadt-a\"]")
            .replace("\"buergerbuero\"", "\"ohne-schluessel\""),
    );
    region.assert_errors(&[region.line(
        "portals/stadt-a/portal.toml",
        11,
        6,
        "error",
        "office `ohne-schluessel` receives applications for `antrag` but has no `public_key` to encrypt them to (create one with `lotse keys new`)",
    )]);

    // the same office without a form to receive is fine
    let region = Region::new();
    region.write(
        SERVICE,
        service("office = \"ohne-schluessel\"\n").replace("[\"*\"]", "[\"stadt-a\"]"),
    );
    region.assert_warnings(&[]);

    // a form needs an office at all
    let region = Region::new();
    region.write(
        FORM,
        form_service("").replace("office = \"buergerbuero\"\n", ""),
    );
    region.assert_errors(&[region.line(
        FORM,
        7,
        3,
        "error",
        "a service with `[form]` needs `office`, the office its applications go to",
    )]);
}

// --- slugs and paths ---------------------------------------------------------

#[test]
fn two_files_with_the_same_slug() {
    let region = Region::new();
    region.write("services/Straße.md", service(""));
    region.write("services/strasse.md", service(""));
    let (ok, diags) = region.check();
    assert!(!ok);
    assert_eq!(
        error_lines(&diags),
        [region.line(
            "services/strasse.md",
            1,
            1,
            "error",
            &format!(
                "duplicate slug `strasse`: {} has the same slug",
                region.root().join("services/Straße.md").display()
            ),
        )]
    );
    assert!(warning_lines(&diags).contains(&region.line(
        "services/Straße.md",
        1,
        1,
        "warning",
        "the name `Straße` is published as `strasse`; rename it to match",
    )));
}

#[test]
fn name_without_any_slug_characters() {
    let region = Region::new();
    region.write("services/——.md", service(""));
    region.assert_errors(&[region.line(
        "services/——.md",
        1,
        1,
        "error",
        "cannot make a slug of the name `——`: use letters or digits",
    )]);
}

#[test]
fn local_service_clashing_with_a_regional_one() {
    let region = Region::new();
    let file = "portals/stadt-a/services/basis.md";
    region.write(file, local_service(""));
    region.assert_errors(&[region.line(
        file,
        1,
        1,
        "error",
        "local service `basis` has the same slug as the regional service this portal offers; set `extends = \"basis\"` to override it",
    )]);
}

#[test]
fn override_file_name_clashing_with_another_service() {
    let region = Region::new();
    region.write("services/zweite.md", service(""));
    let file = "portals/stadt-a/services/zweite.md";
    region.write(file, "+++\nextends = \"basis\"\nfees = \"1 Euro\"\n+++\n");
    region.assert_errors(&[region.line(
        file,
        1,
        1,
        "error",
        "the file name `zweite` clashes with another service of this portal",
    )]);
}

#[test]
fn override_publishing_over_a_local_service() {
    // `extra` is regional but not offered in stadt-a; stadt-a has a local `extra` and
    // also an override of the regional `extra` under another file name: both would be
    // published at /stadt-a/extra/.
    let region = Region::new();
    region.write(
        "services/extra.md",
        service("").replace("[\"*\"]", "[\"stadt-b\"]"),
    );
    region.write("portals/stadt-a/services/extra.md", local_service(""));
    region.write(
        "portals/stadt-a/services/extra-lokal.md",
        "+++\nextends = \"extra\"\nfees = \"1 Euro\"\n+++\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-a/services/extra.md",
        1,
        1,
        "error",
        "local service `extra` has the same slug as the regional service this portal offers; set `extends = \"extra\"` to override it",
    )]);

    // the same with the files read in the other order
    let region = Region::new();
    region.write(
        "services/extra.md",
        service("").replace("[\"*\"]", "[\"stadt-b\"]"),
    );
    region.write("portals/stadt-a/services/extra.md", local_service(""));
    region.write(
        "portals/stadt-a/services/zusatz.md",
        "+++\nextends = \"extra\"\nfees = \"1 Euro\"\n+++\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-a/services/zusatz.md",
        2,
        11,
        "error",
        &format!(
            "this override would publish `extra` at the address of the local service {}; rename one of them",
            region.root().join("portals/stadt-a/services/extra.md").display()
        ),
    )]);
}

#[test]
fn page_slug_colliding_with_a_service_or_a_reserved_name() {
    let region = Region::new();
    region.write(
        "portals/stadt-a/pages/basis.md",
        "+++\ntitle = \"Basis\"\n+++\n\nText\n",
    );
    region.write(
        "portals/stadt-a/pages/themen.md",
        "+++\ntitle = \"Themen\"\n+++\n\nText\n",
    );
    region.write(
        "portals/stadt-b/pages/a-z.md",
        "+++\ntitle = \"A-Z\"\n+++\n\nText\n",
    );
    region.assert_errors(&[
        region.line(
            "portals/stadt-a/pages/basis.md",
            1,
            1,
            "error",
            "the page slug `basis` is already used by a service of this portal",
        ),
        region.line(
            "portals/stadt-a/pages/themen.md",
            1,
            1,
            "error",
            "the page slug `themen` is reserved for the portal's own pages",
        ),
        region.line(
            "portals/stadt-b/pages/a-z.md",
            1,
            1,
            "error",
            "the page slug `a-z` is reserved for the portal's own pages",
        ),
    ]);
}

#[test]
fn service_slug_taking_a_reserved_name() {
    let region = Region::new();
    region.write("services/a-z.md", service(""));
    region.write("portals/stadt-a/services/themen.md", local_service(""));
    region.assert_errors(&[
        region.line(
            "services/a-z.md",
            1,
            1,
            "error",
            "the service slug `a-z` is reserved for the portal's own pages",
        ),
        region.line(
            "portals/stadt-a/services/themen.md",
            1,
            1,
            "error",
            "the service slug `themen` is reserved for the portal's own pages",
        ),
    ]);
}

#[test]
fn umbrella_page_and_portal_slugs_at_the_root() {
    let region = Region::new();
    region.write("pages/themen.md", "+++\ntitle = \"Themen\"\n+++\n\nText\n");
    region.write(
        "pages/stadt-a.md",
        "+++\ntitle = \"Stadt A\"\n+++\n\nText\n",
    );
    region.write(
        "portals/api/portal.toml",
        "name = \"API\"\nshort_name = \"API\"\nkind = \"city\"\n",
    );
    region.assert_errors(&[
        region.line(
            "pages/themen.md",
            1,
            1,
            "error",
            "the page slug `themen` is reserved for the umbrella's own pages",
        ),
        region.line(
            "pages/stadt-a.md",
            1,
            1,
            "error",
            "the page slug `stadt-a` is already used by a portal",
        ),
        region.line(
            "portals/api/portal.toml",
            1,
            1,
            "error",
            "the portal folder name `api` is reserved for the umbrella's own pages",
        ),
        // the portal is still checked as far as possible
        region.line(
            "services/basis.md",
            6,
            10,
            "error",
            "office `buergerbuero` does not exist in portal `api`, which offers this service",
        ),
    ]);
}

#[test]
fn two_portal_folders_with_the_same_slug() {
    let region = Region::new();
    region.write(
        "portals/Stadt-A/portal.toml",
        format!("name = \"Noch eine Stadt A\"\nshort_name = \"A2\"\nkind = \"city\"\n\n[[offices]]\nid = \"buergerbuero\"\nname = \"Amt\"\npublic_key = \"{KEY_A}\"\n"),
    );
    region.assert_errors(&[region.line(
        "portals/stadt-a/portal.toml",
        1,
        1,
        "error",
        &format!(
            "duplicate slug `stadt-a`: {} has the same slug",
            region.root().join("portals/Stadt-A").display()
        ),
    )]);
}

// --- forms -----------------------------------------------------------------

fn field(id: &str, kind: &str, extra: &str) -> String {
    format!("[[form.fields]]\nid = \"{id}\"\nlabel = \"Feld {id}\"\ntype = \"{kind}\"\n{extra}")
}

#[test]
fn unknown_field_type_suggests_the_closest() {
    let region = Region::new();
    region.write(FORM, form_service(&field("bemerkung", "textare", "")));
    region.assert_errors(&[region.line(
        FORM,
        17,
        8,
        "error",
        "unknown field type `textare`; expected one of text, textarea, email, tel, date, number, select, radio, checkbox, postcode, iban; did you mean `textarea`?",
    )]);
}

#[test]
fn prefill_names_a_known_claim() {
    let region = Region::new();
    region.write(
        FORM,
        form_service(&field("mail", "email", "prefill = \"e-mail\"\n")),
    );
    region.assert_errors(&[region.line(
        FORM,
        18,
        11,
        "error",
        "unknown prefill `e-mail`; expected one of given_name, family_name, name, email, street_address, postal_code, locality; did you mean `email`?",
    )]);
}

#[test]
fn option_fields_need_distinct_options() {
    let region = Region::new();
    region.write(FORM, form_service(&field("rasse", "select", "")));
    region.assert_errors(&[region.line(
        FORM,
        17,
        8,
        "error",
        "a `select` field needs a non-empty `options` list",
    )]);

    let region = Region::new();
    region.write(
        FORM,
        form_service(&field("wahl", "radio", "options = []\n")),
    );
    region.assert_errors(&[region.line(
        FORM,
        17,
        8,
        "error",
        "a `radio` field needs a non-empty `options` list",
    )]);

    let region = Region::new();
    region.write(
        FORM,
        form_service(&field(
            "wahl",
            "radio",
            "options = [\"Ja\", \"Nein\", \"Ja\"]\n",
        )),
    );
    region.assert_errors(&[region.line(FORM, 17, 8, "error", "duplicate option `Ja`")]);

    let region = Region::new();
    region.write(
        FORM,
        form_service(&field("ort", "text", "options = [\"A\"]\n")),
    );
    region.assert_errors(&[region.line(
        FORM,
        17,
        8,
        "error",
        "`options` only apply to select and radio fields, not `text`",
    )]);
}

#[test]
fn duplicate_and_invalid_field_ids() {
    let region = Region::new();
    region.write(FORM, form_service(&field("name", "email", "")));
    region.assert_errors(&[region.line(
        FORM,
        15,
        6,
        "error",
        "duplicate field id `name` in this form",
    )]);

    let region = Region::new();
    region.write(
        FORM,
        form_service(&(field("portal", "text", "") + "\n" + &field("Vor-Name", "text", ""))),
    );
    region.assert_errors(&[
        region.line(
            FORM,
            15,
            6,
            "error",
            "field id `portal` is reserved: every form has it already (routing data, notification address)",
        ),
        region.line(
            FORM,
            20,
            6,
            "error",
            "field id `Vor-Name` may only contain a-z, 0-9 and _",
        ),
    ]);
}

#[test]
fn number_bounds() {
    let region = Region::new();
    region.write(
        FORM,
        form_service(&field("anzahl", "number", "min = 10\nmax = 1.5\n")),
    );
    region.assert_errors(&[region.line(
        FORM,
        18,
        7,
        "error",
        "`min` (10) is greater than `max` (1.5)",
    )]);

    let region = Region::new();
    region.write(FORM, form_service(&field("ort", "text", "min = 1\n")));
    region.assert_errors(&[region.line(
        FORM,
        18,
        7,
        "error",
        "`min` and `max` only apply to number fields, not `text`",
    )]);
}

#[test]
fn max_length_on_a_non_text_field() {
    let region = Region::new();
    region.write(
        FORM,
        form_service(&field("datum", "date", "max_length = 10\n")),
    );
    region.assert_errors(&[region.line(
        FORM,
        18,
        14,
        "error",
        "`max_length` only applies to free-text fields, not `date`",
    )]);
    for kind in ["text", "textarea", "email", "tel"] {
        let region = Region::new();
        region.write(
            FORM,
            form_service(&field("feld", kind, "max_length = 10\n")),
        );
        region.assert_warnings(&[]);
    }
}

#[test]
fn form_without_fields_and_without_required_fields() {
    let region = Region::new();
    region.write(
        FORM,
        form_service("").replace(
            "[[form.fields]]\nid = \"name\"\nlabel = \"Name\"\ntype = \"text\"\nrequired = true\n",
            "[form]\nintro = \"Hallo\"\n",
        ),
    );
    region.assert_errors(&[region.line(
        FORM,
        8,
        1,
        "error",
        "`[form]` needs at least one `[[form.fields]]` entry",
    )]);

    let region = Region::new();
    region.write(FORM, form_service("").replace("required = true\n", ""));
    region.assert_warnings(&[region.line(
        FORM,
        8,
        3,
        "warning",
        "this form has no required field; an empty application could be sent",
    )]);
}

// --- theme -------------------------------------------------------------------

#[test]
fn low_contrast_theme_colour() {
    let region = Region::new();
    region.append(
        "portals/stadt-b/portal.toml",
        "\n[theme]\nprimary = \"#aaaaaa\"\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-b/portal.toml",
        11,
        11,
        "error",
        "`primary` #aaaaaa has a contrast of 2.32:1 against white; at least 4.5:1 is needed for readable text (WCAG 1.4.3)",
    )]);

    let region = Region::new();
    region.append("region.toml", "\n[theme]\nprimary = \"#ffcc00\"\n");
    let (ok, diags) = region.check();
    assert!(!ok);
    let errors = error_lines(&diags);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with(&region.line(
        "region.toml",
        7,
        11,
        "error",
        "`primary` #ffcc00 has a contrast of "
    )));

    let region = Region::new();
    region.append(
        "portals/stadt-b/portal.toml",
        "\n[theme]\nprimary = \"blau\"\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-b/portal.toml",
        11,
        11,
        "error",
        "`primary` must be a colour like `#00639c`, found `blau`",
    )]);

    // dark enough
    let region = Region::new();
    region.append(
        "portals/stadt-b/portal.toml",
        "\n[theme]\nprimary = \"#767676\"\n",
    );
    region.assert_warnings(&[]);
}

#[test]
fn missing_logo() {
    let region = Region::new();
    region.append(
        "portals/stadt-b/portal.toml",
        "\n[theme]\nlogo = \"wappen.svg\"\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-b/portal.toml",
        10,
        1,
        "error",
        "logo `wappen.svg` not found next to portal.toml",
    )]);
    region.write(
        "portals/stadt-b/wappen.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    region.assert_warnings(&[]);
}

// --- warnings ------------------------------------------------------------------

#[test]
fn bad_leika_is_a_warning() {
    let region = Region::new();
    region.write(SERVICE, service("leika = \"12345\"\n"));
    region.assert_warnings(&[region.line(
        SERVICE,
        6,
        9,
        "warning",
        "`leika` should be the 14-digit Leistungsschlüssel, found `12345`",
    )]);
    let region = Region::new();
    region.write(SERVICE, service("leika = \"9910201300000X\"\n"));
    region.assert_warnings(&[region.line(
        SERVICE,
        6,
        9,
        "warning",
        "`leika` should be the 14-digit Leistungsschlüssel, found `9910201300000X`",
    )]);
    let region = Region::new();
    region.write(SERVICE, service("leika = \"99102013000000\"\n"));
    region.assert_warnings(&[]);
}

#[test]
fn other_warnings() {
    let region = Region::new();
    region.write(SERVICE, service("").replace("portals = [\"*\"]\n", ""));
    region.write(
        "portals/stadt-a/pages/leer.md",
        "+++\ntitle = \"Leer\"\n+++\n",
    );
    region.write(
        "portals/stadt-b/services/basis.md",
        "+++\nextends = \"basis\"\n+++\n",
    );
    region.write("services/notizen.txt", "kein Markdown");
    region.write(
        "services/lang.md",
        service("").replace("Eine Leistung zum Testen.", &"Sehr lang. ".repeat(30)),
    );
    region.assert_warnings(&[
        region.line(
            SERVICE,
            1,
            1,
            "warning",
            "no portal offers this service: set `portals` (e.g. `[\"*\"]` for all)",
        ),
        region.line(
            "portals/stadt-a/pages/leer.md",
            1,
            1,
            "warning",
            "this page has no text below its front matter",
        ),
        region.line(
            "portals/stadt-b/services/basis.md",
            2,
            11,
            "warning",
            "this override sets nothing but `extends`; the regional service is used unchanged",
        ),
        region.line(
            "services/notizen.txt",
            1,
            1,
            "warning",
            "ignored: only `.md` files are read in this folder",
        ),
        region.line(
            "services/lang.md",
            3,
            11,
            "warning",
            "`summary` is longer than 300 characters; one or two sentences read best in lists",
        ),
    ]);

    // extending a service the portal does not list adds it there
    let region = Region::new();
    region.write(SERVICE, service("").replace("[\"*\"]", "[\"stadt-b\"]"));
    region.write(
        "portals/stadt-a/services/leistung.md",
        "+++\nextends = \"leistung\"\nfees = \"3 Euro\"\n+++\n",
    );
    region.assert_warnings(&[region.line(
        "portals/stadt-a/services/leistung.md",
        2,
        11,
        "warning",
        "`leistung` does not list portal `stadt-a` in `portals`; this override adds it here",
    )]);
    let (site, _) = build::check(region.root());
    let site = site.unwrap();
    let a = site
        .portals
        .iter()
        .find(|p| p.portal.slug == "stadt-a")
        .unwrap();
    let added = a
        .services
        .iter()
        .find(|s| s.service.slug == "leistung")
        .unwrap();
    assert_eq!(added.service.fees, ["3 Euro"]);
}

// --- fees and the payment provider (SPEC sections 2 and 7) -------------------------

/// The test provider's `[payment]` for region.toml or a portal.toml.
const PROVIDER: &str = "\n[payment]\nbase_url = \"http://127.0.0.1:8090\"\noriginator_id = \"lotse-test\"\nendpoint_id = \"gebuehren\"\n";

/// A region whose portals all have the test provider (from region.toml, `[payment]` at
/// line 6).
fn paid_region() -> Region {
    let region = Region::new();
    region.append("region.toml", PROVIDER);
    region
}

/// [`form_service`] with a `[payment]` table at line 14 and its keys from line 15 on.
fn paid_service(keys: &str) -> String {
    form_service(&format!("[payment]\n{keys}"))
}

/// The resolved service `slug` of `portal`.
fn resolved(region: &Region, portal: &str, slug: &str) -> lotse_model::Service {
    let (site, diags) = build::check(region.root());
    let site = site.unwrap_or_else(|| panic!("{:#?}", lines(&diags)));
    let ps = site
        .portals
        .iter()
        .find(|p| p.portal.slug == portal)
        .unwrap();
    ps.services
        .iter()
        .find(|s| s.service.slug == slug)
        .unwrap()
        .service
        .clone()
}

#[test]
fn a_paid_service_with_a_form_and_a_provider_is_clean() {
    let region = paid_region();
    region.write(FORM, paid_service("amount = 12.5\n"));
    region.assert_warnings(&[]);
    let service = resolved(&region, "stadt-a", "antrag");
    let payment = service.payment.unwrap();
    assert_eq!(payment.amount, lotse_model::payment::Cents(1250));
    assert_eq!(payment.purpose, "Antrag", "default: the title");

    // whole euros as an integer, an own purpose, a title cut for the default
    region.write(
        FORM,
        paid_service("amount = 30\npurpose = \"Parkausweis\"\n"),
    );
    let payment = resolved(&region, "stadt-b", "antrag").payment.unwrap();
    assert_eq!(payment.amount.0, 3000);
    assert_eq!(payment.purpose, "Parkausweis");
    region.write(
        FORM,
        paid_service("amount = 30.70\n").replace(
            "title = \"Antrag\"",
            "title = \"Anwohnerparkausweis beantragen oder verlängern\"",
        ),
    );
    let payment = resolved(&region, "stadt-a", "antrag").payment.unwrap();
    assert_eq!(payment.amount.0, 3070);
    assert_eq!(payment.purpose, "Anwohnerparkausweis beantra");
}

#[test]
fn amount_must_be_euros_with_at_most_two_decimals_and_more_than_zero() {
    for (amount, message) in [
        (
            "13.005",
            "`amount` is in euros with at most two decimals (cents), e.g. `12.5` or `30.70`, found `13.005`",
        ),
        (
            "0",
            "`amount` must be more than 0 euros, found `0`; a service without a fee has no `[payment]`",
        ),
        (
            "-5",
            "`amount` must be more than 0 euros, found `-5`; a service without a fee has no `[payment]`",
        ),
        (
            "2_000_000",
            "`amount` must be at most 1000000 euros, found `2000000`",
        ),
        ("\"12 Euro\"", "`amount` must be a finite number, found string"),
        ("nan", "`amount` must be a finite number, found float"),
    ] {
        let region = paid_region();
        region.write(FORM, paid_service(&format!("amount = {amount}\n")));
        region.assert_errors(&[region.line(FORM, 15, 10, "error", message)]);
    }

    let region = paid_region();
    region.write(FORM, paid_service("purpose = \"Antrag\"\n"));
    region.assert_errors(&[region.line(
        FORM,
        14,
        1,
        "error",
        "missing required key `amount` in [payment]: the fee in euros, e.g. `amount = 12.50`",
    )]);
}

#[test]
fn purpose_has_at_most_27_characters() {
    let region = paid_region();
    // 27 characters with umlauts: fine
    region.write(
        FORM,
        paid_service("amount = 10\npurpose = \"Gebühr für Überprüfung äöüß\"\n"),
    );
    region.assert_warnings(&[]);

    let region = paid_region();
    region.write(
        FORM,
        paid_service("amount = 10\npurpose = \"Anwohnerparkausweis für 2027\"\n"),
    );
    region.assert_errors(&[region.line(
        FORM,
        16,
        11,
        "error",
        "`purpose` has 28 characters; a Verwendungszweck may have at most 27",
    )]);

    let region = paid_region();
    region.write(FORM, paid_service("amount = 10\npurpose = \" \"\n"));
    region.assert_errors(&[region.line(
        FORM,
        16,
        11,
        "error",
        "`purpose` must not be empty; leave it out to use the title",
    )]);

    let region = paid_region();
    region.write(FORM, paid_service("amount = 10\nbetrag = 10\n"));
    region.assert_errors(&[region.line(FORM, 16, 1, "error", "unknown key `betrag` in [payment]")]);
    let region = paid_region();
    region.write(FORM, paid_service("amount = 10\npurpos = \"Antrag\"\n"));
    region.assert_errors(&[region.line(
        FORM,
        16,
        1,
        "error",
        "unknown key `purpos` in [payment]; did you mean `purpose`?",
    )]);
}

#[test]
fn a_fee_needs_an_online_form_and_a_municipal_service() {
    let region = paid_region();
    region.write(
        SERVICE,
        service("office = \"buergerbuero\"\n\n[payment]\namount = 10\n"),
    );
    region.assert_errors(&[region.line(
        SERVICE,
        8,
        1,
        "error",
        "a service with `[payment]` needs a `[form]`: the fee is paid at the end of the online application",
    )]);

    let region = paid_region();
    region.write(
        SERVICE,
        service("provider = \"bund\"\nurl = \"https://bund.example\"\n\n[payment]\namount = 13\n"),
    );
    region.assert_errors(&[region.line(
        SERVICE,
        9,
        1,
        "error",
        "state and federal services are paid at their own online service; remove `[payment]`",
    )]);

    // a regional fee whose form only a local override adds: fine where the form is
    let region = paid_region();
    region.write(
        SERVICE,
        service("office = \"buergerbuero\"\n\n[payment]\namount = 10\n")
            .replace("[\"*\"]", "[\"stadt-a\"]"),
    );
    region.write(
        "portals/stadt-a/services/leistung.md",
        "+++\nextends = \"leistung\"\n\n[[form.fields]]\nid = \"name\"\nlabel = \"Name\"\ntype = \"text\"\nrequired = true\n+++\n",
    );
    region.assert_warnings(&[]);
}

#[test]
fn a_paid_service_needs_a_payment_provider_in_every_portal_offering_it() {
    let missing = |portal: &str| {
        format!(
            "portal `{portal}` offers this service with a fee but has no payment provider: set `[payment]` in its portal.toml, or for all portals in region.toml"
        )
    };
    let region = Region::new();
    region.write(FORM, paid_service("amount = 10\n"));
    region.assert_errors(&[
        region.line(FORM, 14, 1, "error", &missing("stadt-a")),
        region.line(FORM, 14, 1, "error", &missing("stadt-b")),
    ]);

    // one portal with its own provider: only the other is missing one
    let region = Region::new();
    region.append("portals/stadt-a/portal.toml", PROVIDER);
    region.write(FORM, paid_service("amount = 10\n"));
    region.assert_errors(&[region.line(FORM, 14, 1, "error", &missing("stadt-b"))]);

    // the region's provider for both, stadt-a's own winning as a whole
    region.append(
        "region.toml",
        "\n[payment]\nbase_url = \"https://epaybl.example.de/rest/v1/\"\noriginator_id = \"region\"\nendpoint_id = \"gebuehren\"\ntoken_url = \"https://epaybl.example.de/oauth/token\"\nclient_id = \"lotse\"\n",
    );
    region.assert_warnings(&[]);
    let (site, _) = build::check(region.root());
    let site = site.unwrap();
    let provider = |slug: &str| {
        site.portals
            .iter()
            .find(|p| p.portal.slug == slug)
            .unwrap()
            .portal
            .payment
            .clone()
            .unwrap()
    };
    assert_eq!(provider("stadt-a").originator_id, "lotse-test");
    assert_eq!(provider("stadt-a").token_url, None);
    let b = provider("stadt-b");
    assert_eq!(b.originator_id, "region");
    assert_eq!(
        b.base_url, "https://epaybl.example.de/rest/v1",
        "no final /"
    );
    assert_eq!(b.client_id.as_deref(), Some("lotse"));

    // a local override adding a fee is checked where it is written
    let region = Region::new();
    region.append("portals/stadt-a/portal.toml", PROVIDER);
    region.write(FORM, form_service(""));
    let local = "portals/stadt-b/services/antrag.md";
    region.write(
        local,
        "+++\nextends = \"antrag\"\n\n[payment]\namount = 8\n+++\n",
    );
    region.assert_errors(&[region.line(local, 4, 1, "error", &missing("stadt-b"))]);
    region.append("portals/stadt-b/portal.toml", PROVIDER);
    region.assert_warnings(&[]);
    assert!(resolved(&region, "stadt-a", "antrag").payment.is_none());
    let paid = resolved(&region, "stadt-b", "antrag").payment.unwrap();
    assert_eq!((paid.amount.0, paid.purpose.as_str()), (800, "Antrag"));

    // an override replaces the regional fee as a whole: its purpose is the default again
    let region = paid_region();
    region.write(FORM, paid_service("amount = 10\npurpose = \"Regional\"\n"));
    region.write(
        local,
        "+++\nextends = \"antrag\"\ntitle = \"Antrag in B\"\n\n[payment]\namount = 7.5\n+++\n",
    );
    region.assert_warnings(&[]);
    let a = resolved(&region, "stadt-a", "antrag").payment.unwrap();
    assert_eq!((a.amount.0, a.purpose.as_str()), (1000, "Regional"));
    let b = resolved(&region, "stadt-b", "antrag").payment.unwrap();
    assert_eq!((b.amount.0, b.purpose.as_str()), (750, "Antrag in B"));
}

#[test]
fn payment_provider_keys_are_checked_where_they_are_written() {
    let portal = "portals/stadt-b/portal.toml";
    // portal.toml of stadt-b has 8 lines; the table starts at line 10
    let provider = |keys: &str| format!("\n[payment]\n{keys}");

    let region = Region::new();
    region.append(portal, &provider("base_url = \"https://pay.example\"\n"));
    region.assert_errors(&[
        region.line(
            portal,
            10,
            1,
            "error",
            "missing required key `originator_id` in [payment]",
        ),
        region.line(
            portal,
            10,
            1,
            "error",
            "missing required key `endpoint_id` in [payment]",
        ),
    ]);

    let region = Region::new();
    region.append(
        portal,
        &provider(
            "base_url = \"pay.example/api\"\noriginator_id = \"stadt/b\"\nendpoint_id = \"\"\nendpoint = \"x\"\n",
        ),
    );
    region.assert_errors(&[
        region.line(
            portal,
            11,
            12,
            "error",
            "`base_url` must be an absolute http(s) address",
        ),
        region.line(
            portal,
            12,
            17,
            "error",
            "`originator_id` is a part of the provider's addresses: use only letters, digits, `-`, `_`, `.` and `~`, found `stadt/b`",
        ),
        region.line(portal, 13, 15, "error", "`endpoint_id` must not be empty"),
        region.line(
            portal,
            14,
            1,
            "error",
            "unknown key `endpoint` in [payment]; did you mean `endpoint_id`?",
        ),
    ]);

    let ids = "originator_id = \"b\"\nendpoint_id = \"gebuehren\"\n";
    let region = Region::new();
    region.append(
        portal,
        &provider(&format!(
            "base_url = \"https://pay.example\"\n{ids}token_url = \"https://pay.example/token\"\n"
        )),
    );
    region.assert_errors(&[region.line(
        portal,
        14,
        13,
        "error",
        "`token_url` needs `client_id` too: OAuth2 client credentials take both (or leave out both)",
    )]);

    let region = Region::new();
    region.append(
        portal,
        &provider(&format!(
            "base_url = \"https://pay.example\"\n{ids}client_id = \"lotse\"\n"
        )),
    );
    region.assert_errors(&[region.line(
        portal,
        14,
        13,
        "error",
        "`client_id` needs `token_url` too: OAuth2 client credentials take both (or leave out both)",
    )]);

    let region = Region::new();
    region.append(
        portal,
        &provider(&format!(
            "base_url = \"https://pay.example\"\n{ids}token_url = \"ftp://pay.example\"\nclient_id = \"lotse\"\n"
        )),
    );
    region.assert_errors(&[region.line(
        portal,
        14,
        13,
        "error",
        "`token_url` must be an absolute http(s) address",
    )]);

    let region = Region::new();
    region.append("region.toml", "\n[payment]\nbase_url = 8090\n");
    region.assert_errors(&[
        region.line(
            "region.toml",
            7,
            12,
            "error",
            "`base_url` must be a string, found integer",
        ),
        region.line(
            "region.toml",
            6,
            1,
            "error",
            "missing required key `originator_id` in [payment]",
        ),
        region.line(
            "region.toml",
            6,
            1,
            "error",
            "missing required key `endpoint_id` in [payment]",
        ),
    ]);

    // plain http to another computer: a warning; to this one (the test provider): fine
    let region = Region::new();
    region.append(
        portal,
        &provider(&format!(
            "base_url = \"http://pay.example\"\n{ids}token_url = \"http://localhost:8090/token\"\nclient_id = \"lotse\"\n"
        )),
    );
    region.assert_warnings(&[region.line(
        portal,
        11,
        12,
        "warning",
        "`base_url` is not https: payments and credentials would cross the network unencrypted (http:// is for a test provider on this computer only)",
    )]);
}

#[test]
fn an_invalid_provider_is_reported_once_not_at_every_paid_service() {
    let region = Region::new();
    region.append(
        "region.toml",
        "\n[payment]\nbase_url = \"https://pay.example\"\n",
    );
    region.write(FORM, paid_service("amount = 10\n"));
    region.assert_errors(&[
        region.line(
            "region.toml",
            6,
            1,
            "error",
            "missing required key `originator_id` in [payment]",
        ),
        region.line(
            "region.toml",
            6,
            1,
            "error",
            "missing required key `endpoint_id` in [payment]",
        ),
    ]);
}

// --- all errors of a run -----------------------------------------------------------

#[test]
fn all_errors_of_a_run_are_reported_sorted() {
    let region = Region::new();
    region.write("services/eins.md", "kein Kopf\n");
    region.write(
        "services/zwei.md",
        service("office = \"nirgends\"\nleika = \"1\"\n")
            .replace("[\"umwelt\"]", "[\"umwelt\", \"gibtsnicht\"]"),
    );
    region.write(
        "portals/stadt-b/pages/impressum.md",
        "+++\ntitel = \"Impressum\"\n+++\n\nText\n",
    );
    region.append("region.toml", "farbe = 1\n");
    let (ok, diags) = region.check();
    assert!(!ok);
    let errors = error_lines(&diags);
    let expected = [
        region.line(
            "portals/stadt-b/pages/impressum.md",
            2,
            1,
            "error",
            "missing required key `title` in page front matter",
        ),
        region.line(
            "portals/stadt-b/pages/impressum.md",
            2,
            1,
            "error",
            "unknown key `titel` in page front matter; did you mean `title`?",
        ),
        region.line(
            "region.toml",
            5,
            1,
            "error",
            "unknown key `farbe` in region.toml",
        ),
        region.line(
            "services/eins.md",
            1,
            1,
            "error",
            "the file must start with TOML front matter between `+++` lines",
        ),
        region.line(
            "services/zwei.md",
            4,
            25,
            "error",
            "unknown category `gibtsnicht`: not defined in categories.toml",
        ),
        region.line(
            "services/zwei.md",
            6,
            10,
            "error",
            "office `nirgends` does not exist in portal `stadt-a`, which offers this service",
        ),
        region.line(
            "services/zwei.md",
            6,
            10,
            "error",
            "office `nirgends` does not exist in portal `stadt-b`, which offers this service",
        ),
    ];
    let mut got_sorted = errors.clone();
    got_sorted.sort();
    let mut want_sorted = expected.to_vec();
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted, "\n{}", lines(&diags).join("\n"));
    // reported in file and position order
    let positions: Vec<(String, u32, u32)> = errors
        .iter()
        .map(|s| {
            let mut parts = s.splitn(4, ':');
            (
                parts.next().unwrap().to_string(),
                parts.next().unwrap().parse().unwrap(),
                parts.next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let mut ordered = positions.clone();
    ordered.sort();
    assert_eq!(positions, ordered);
    // the warning of the same run is there too
    assert!(warning_lines(&diags).contains(&region.line(
        "services/zwei.md",
        7,
        9,
        "warning",
        "`leika` should be the 14-digit Leistungsschlüssel, found `1`"
    )));
    // and a second run reports the same
    assert_eq!(lines(&build::check(region.root()).1), lines(&diags));
}

// --- command line ------------------------------------------------------------------

fn lotse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(args)
        .output()
        .expect("the lotse binary runs")
}

fn path_arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn cli_check_passes_on_the_fixture() {
    let fixture = fixture_dir();
    let out = lotse(&["check", "--content", path_arg(&fixture)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(": warning: the name `Führerschein-Straße`"),
        "{stderr}"
    );
    assert!(!stderr.contains(": error: "), "{stderr}");
    // warnings fail only on request
    let strict = lotse(&["check", "--content", path_arg(&fixture), "--deny-warnings"]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn cli_check_prints_every_error_to_stderr_and_exits_1() {
    let region = Region::new();
    region.write(SERVICE, service("").replace("[\"umwelt\"]", "[\"umwlet\"]"));
    region.write(FORM, form_service(&field("rasse", "select", "")));
    let out = lotse(&["check", "--content", path_arg(region.root())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "diagnostics go to stderr");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let printed: Vec<&str> = stderr.lines().collect();
    for expected in [
        region.line(
            SERVICE,
            4,
            15,
            "error",
            "unknown category `umwlet`: not defined in categories.toml; did you mean `umwelt`?",
        ),
        region.line(
            FORM,
            17,
            8,
            "error",
            "a `select` field needs a non-empty `options` list",
        ),
    ] {
        assert!(printed.contains(&expected.as_str()), "{expected}\n{stderr}");
    }
}

#[test]
fn cli_build_on_broken_content_exits_1_and_writes_nothing() {
    let region = Region::new();
    region.write(SERVICE, "+++\ntitle = \n+++\n");
    let out_dir = region.root().join("dist");
    let theme = theme_dir();
    let out = lotse(&[
        "build",
        "--content",
        path_arg(region.root()),
        "--out",
        path_arg(&out_dir),
        "--theme",
        path_arg(&theme),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing written"), "{stderr}");
    assert!(stderr.contains(&format!("{}:2:", region.root().join(SERVICE).display())));
    assert!(!out_dir.exists());
    // and on valid content it builds
    let ok = lotse(&[
        "build",
        "--content",
        path_arg(&fixture_dir()),
        "--out",
        path_arg(&out_dir),
        "--theme",
        path_arg(&theme),
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out_dir
        .join("musterstadt/hund-anmelden/index.html")
        .is_file());
}

/// Values from the content (category ids, quoted key names) are put into messages; a
/// `\n` in them must not break the one-line-per-problem format or forge a diagnostic.
#[test]
fn every_diagnostic_is_one_line() {
    let region = Region::new();
    region.write(
        SERVICE,
        service("\"a\\nb\" = 1\n")
            .replace("[\"umwelt\"]", "[\"umwelt\\nx.md:1:1: error: gefälscht\"]"),
    );
    let (ok, diags) = region.check();
    assert!(!ok);
    for line in lines(&diags) {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
    }
}

#[test]
fn feedback_office_must_exist_and_have_a_key() {
    let portal = |feedback: &str| {
        format!(
            "name = \"Stadt A\"\nshort_name = \"A\"\nkind = \"city\"\nfeedback_office = \"{feedback}\"\n\n\
             [[offices]]\nid = \"buergerbuero\"\nname = \"Bürgerbüro A\"\npublic_key = \"{KEY_A}\"\n\n\
             [[offices]]\nid = \"ohne-schluessel\"\nname = \"Amt ohne Schlüssel\"\n"
        )
    };
    let file = "portals/stadt-a/portal.toml";
    let region = Region::new();
    region.write(file, portal("buergerbuer"));
    region.assert_errors(&[region.line(
        file,
        4,
        19,
        "error",
        "`feedback_office` names no office of this portal: `buergerbuer`; did you mean `buergerbuero`?",
    )]);
    let region = Region::new();
    region.write(file, portal("ohne-schluessel"));
    region.assert_errors(&[region.line(
        file,
        4,
        19,
        "error",
        "office `ohne-schluessel` has no `public_key`, so it cannot receive feedback",
    )]);
    let region = Region::new();
    region.write(file, portal("buergerbuero"));
    region.assert_warnings(&[]);
}

#[test]
fn feedback_portal_must_name_a_portal() {
    let region = Region::new();
    region.append("region.toml", "feedback_portal = \"stadt-c\"\n");
    region.assert_errors(&[region.line(
        "region.toml",
        5,
        19,
        "error",
        "`feedback_portal` names no portal: `stadt-c`; did you mean `stadt-a`?",
    )]);
}

// --- links and aliases (check/links.rs, check/paths.rs) -----------------------------

/// A regional service offered everywhere whose body (from line 7 on) is `body`.
fn service_with_body(extra: &str, body: &str) -> String {
    format!(
        "+++\ntitle = \"Testleistung\"\nsummary = \"Eine Leistung zum Testen.\"\ncategories = [\"umwelt\"]\nportals = [\"*\"]\n{extra}+++\n{body}"
    )
}

#[test]
fn broken_link_in_a_regional_body_is_reported_for_each_portal_showing_it() {
    let region = Region::new();
    region.write(
        SERVICE,
        service_with_body(
            "",
            "\nErster Absatz.\n\nSiehe auch: die [alte Seite](../gibtsnicht/#abschnitt), [x](https://example.org/), [y](mailto:a@b.de), [z](#oben).\n",
        ),
    );
    region.assert_errors(&[
        region.line(
            SERVICE,
            10,
            17,
            "error",
            "the link `../gibtsnicht/#abschnitt` leads to no page in portal `stadt-a`: there is no /stadt-a/gibtsnicht/",
        ),
        region.line(
            SERVICE,
            10,
            17,
            "error",
            "the link `../gibtsnicht/#abschnitt` leads to no page in portal `stadt-b`: there is no /stadt-b/gibtsnicht/",
        ),
    ]);
}

#[test]
fn links_that_lead_to_pages_pass() {
    let region = Region::new();
    region.write(
        SERVICE,
        service_with_body(
            "",
            "\n[Basis](../basis/) [Basis ohne Schrägstrich](../basis) [A-Z](../a-z/) [Start](/) \
             [Thema](/themen/umwelt/) [Impressum Stadt A](/stadt-a/gebaerdensprache/) [Sitemap](/sitemap.xml) \
             [Status](/api/status) [Stil](/assets/style.css) [Formular](/forms/stadt-a/basis.json)\n",
        ),
    );
    region.write(
        "services/basis.md",
        fs::read_to_string(region.root().join("services/basis.md"))
            .unwrap()
            .replace("+++\n\n", "\n[[form.fields]]\nid = \"name\"\nlabel = \"Name\"\ntype = \"text\"\nrequired = true\n+++\n\n"),
    );
    region.assert_warnings(&[]);
}

#[test]
fn broken_link_suggests_the_closest_page() {
    let region = Region::new();
    region.write(
        "portals/stadt-a/pages/hilfe.md",
        "+++\ntitle = \"Hilfe\"\n+++\n\nZur [Basisleistung](/stadt-a/basiss/).\n",
    );
    region.assert_errors(&[region.line(
        "portals/stadt-a/pages/hilfe.md",
        5,
        5,
        "error",
        "the link `/stadt-a/basiss/` leads to no page in portal `stadt-a`: there is no /stadt-a/basiss/; did you mean `/stadt-a/basis/`?",
    )]);
    // umbrella pages are checked too, against the root
    let region = Region::new();
    region.write(
        "pages/hilfe.md",
        "+++\ntitle = \"Hilfe\"\n+++\n\n[Stadt A](../stadt-a/) und [Stadt C](../stadt-c/)\n",
    );
    region.assert_errors(&[region.line(
        "pages/hilfe.md",
        5,
        28,
        "error",
        "the link `../stadt-c/` leads to no page on the umbrella site: there is no /stadt-c/; did you mean `/stadt-a/`?",
    )]);
}

#[test]
fn link_that_works_in_one_portal_but_not_in_another() {
    let region = Region::new();
    region.write("portals/stadt-a/services/nur-a.md", local_service(""));
    region.write(
        SERVICE,
        service_with_body("", "\nNur in A: [Lokal](../nur-a/)\n"),
    );
    region.assert_errors(&[region.line(
        SERVICE,
        8,
        11,
        "error",
        "the link `../nur-a/` leads to no page in portal `stadt-b`: there is no /stadt-b/nur-a/",
    )]);
    // an override with its own body replaces the regional links in its portal
    region.write(
        "portals/stadt-b/services/leistung.md",
        "+++\nextends = \"leistung\"\n+++\n\nEigener Text.\n",
    );
    region.assert_warnings(&[]);
}

#[test]
fn aliases_must_lead_to_free_addresses() {
    let region = Region::new();
    region.write(
        SERVICE,
        service("aliases = [\"alter-name\", \"/stadt-a/noch-aelter/\", \"basis\"]\n"),
    );
    region.write(
        FORM,
        service("aliases = [\"alter-name\"]\n").replace("Testleistung", "Zweite"),
    );
    let third = "services/dritte.md";
    region.write(
        third,
        service("aliases = [\"/stadt-c/alt/\", \"a/../b\", \"a-z\"]\n")
            .replace("Testleistung", "Dritte"),
    );
    let collision = |portal: &str| {
        region.line(
            SERVICE,
            6,
            12,
            "error",
            &format!(
                "the alias `alter-name` leads to /{portal}/alter-name/, which is already an alias of `antrag` at {}:6:12",
                region.root().join(FORM).display()
            ),
        )
    };
    region.assert_errors(&[
        region.line(
            SERVICE,
            6,
            51,
            "error",
            "the alias `basis` leads to /stadt-a/basis/, which is already a page; an alias must be a free address",
        ),
        region.line(
            SERVICE,
            6,
            51,
            "error",
            "the alias `basis` leads to /stadt-b/basis/, which is already a page; an alias must be a free address",
        ),
        collision("stadt-a"),
        collision("stadt-b"),
        region.line(
            third,
            6,
            12,
            "error",
            "the alias `/stadt-c/alt/` starts with no portal that shows this service; an absolute alias begins with such a portal's folder, e.g. `/stadt-a/alt/`",
        ),
        region.line(
            third,
            6,
            29,
            "error",
            "the alias `a/../b` is not a path: use names of letters, digits, `-`, `_` and `.` separated by `/`, e.g. `/bottrop/alter-name/` or `alter-name`",
        ),
        region.line(
            third,
            6,
            39,
            "error",
            "the alias `a-z` leads to /stadt-a/a-z/, a name reserved for the portal's own pages",
        ),
        region.line(
            third,
            6,
            39,
            "error",
            "the alias `a-z` leads to /stadt-b/a-z/, a name reserved for the portal's own pages",
        ),
    ]);
    // the alias of a local service, absolute in its portal
    let region = Region::new();
    region.write(
        "portals/stadt-b/services/nur-b.md",
        local_service("aliases = [\"/stadt-b/frueher/\"]\n"),
    );
    region.assert_warnings(&[]);
    let (site, _) = build::check(region.root());
    let b = &site.unwrap().portals[1];
    let nur_b = b
        .services
        .iter()
        .find(|s| s.service.slug == "nur-b")
        .unwrap();
    assert_eq!(nur_b.service.aliases, ["/stadt-b/frueher/"]);
}

// --- Gebärdensprache (check/accessibility.rs) -------------------------------------

fn sign_language_warning(region: &Region, at: &str, owner: &str, page: &str) -> String {
    region.line(
        at,
        1,
        1,
        "warning",
        &format!(
            "{owner} has no video in Deutsche Gebärdensprache, which BITV 2.0 § 4 asks for: add `video = \"…\"` (a file next to the page, or an https address) to {}",
            region.root().join(page).display()
        ),
    )
}

#[test]
fn every_portal_without_a_sign_language_video_is_warned_about() {
    // the minimal region has a video everywhere: no warning (minimal_region_is_clean)
    let region = Region::new();
    region.remove("portals/stadt-b/pages/gebaerdensprache.md");
    region.remove("pages/gebaerdensprache.md");
    region.write(
        "portals/stadt-a/pages/gebaerdensprache.md",
        "+++\ntitle = \"Gebärdensprache\"\n+++\n\nOhne Video.\n",
    );
    region.assert_warnings(&[
        sign_language_warning(
            &region,
            "portals/stadt-b/portal.toml",
            "portal `stadt-b`",
            "portals/stadt-b/pages/gebaerdensprache.md",
        ),
        sign_language_warning(
            &region,
            "portals/stadt-a/pages/gebaerdensprache.md",
            "portal `stadt-a`",
            "portals/stadt-a/pages/gebaerdensprache.md",
        ),
        sign_language_warning(
            &region,
            "region.toml",
            "the umbrella site",
            "pages/gebaerdensprache.md",
        ),
    ]);
}

#[test]
fn a_sign_language_video_file_must_exist_next_to_the_page() {
    let page = "portals/stadt-a/pages/gebaerdensprache.md";
    let with = |video: &str| {
        format!("+++\ntitle = \"Gebärdensprache\"\nvideo = \"{video}\"\n+++\n\nText.\n")
    };
    let region = Region::new();
    region.write(page, with("dgs.webm"));
    region.assert_errors(&[region.line(
        page,
        3,
        9,
        "error",
        "video `dgs.webm` not found next to the page",
    )]);
    region.write("portals/stadt-a/pages/dgs.webm", [0x1a, 0x45, 0xdf, 0xa3]);
    region.assert_warnings(&[]);
    for (video, message) in [
        (
            "http://x.example/v.mp4",
            "`video` must be an https address or a file next to the page",
        ),
        (
            "../dgs.webm",
            "video `../dgs.webm` must be a file name in the page's folder, without folders",
        ),
        (
            "dgs.avi",
            "video `dgs.avi` must be an `.mp4` or `.webm` file, which browsers play",
        ),
    ] {
        region.write(page, with(video));
        region.assert_errors(&[region.line(page, 3, 9, "error", message)]);
    }
}

// --- appointments (SPEC sections 2 and 8) -------------------------------------------

const PORTAL_A: &str = "portals/stadt-a/portal.toml";
const PORTAL_B: &str = "portals/stadt-b/portal.toml";

/// Valid bookable hours for an office: Mo–Fr 08:00–12:00 (the `[[offices.opening]]` at
/// its fourth line, `from` at its sixth).
const HOURS: &str = "capacity = 2\nclosed = [\"2026-12-24\", \"2026-12-31\"]\n\n[[offices.opening]]\ndays = [\"Mo\", \"Di\", \"Mi\", \"Do\", \"Fr\"]\nfrom = \"08:00\"\nto = \"12:00\"\n";

/// A portal.toml whose Bürgerbüro has `keys` from line 9 on (then the office
/// `ohne-schluessel`, without a key, in Stadt A).
fn portal_with(name: &str, keys: &str) -> String {
    let key = if name == "A" { KEY_A } else { KEY_B };
    let mut text = format!(
        "name = \"Stadt {name}\"\nshort_name = \"{name}\"\nkind = \"city\"\n\n[[offices]]\nid = \"buergerbuero\"\nname = \"Bürgerbüro {name}\"\npublic_key = \"{key}\"\n{keys}"
    );
    if name == "A" {
        text.push_str("\n[[offices]]\nid = \"ohne-schluessel\"\nname = \"Amt ohne Schlüssel\"\n");
    }
    text
}

/// A region whose Bürgerbüros both have [`HOURS`].
fn bookable_region() -> Region {
    let region = Region::new();
    region.write(PORTAL_A, portal_with("A", HOURS));
    region.write(PORTAL_B, portal_with("B", HOURS));
    region
}

/// A regional service of the Bürgerbüro (line 6) with `appointment` at line 7 (its
/// table at column 15, `duration`'s value at column 28 when written first).
fn bookable(appointment: &str) -> String {
    service(&format!(
        "office = \"buergerbuero\"\nappointment = {appointment}\n"
    ))
}

/// The resolved portal `slug`.
fn resolved_portal(region: &Region, slug: &str) -> lotse_model::Portal {
    let (site, diags) = build::check(region.root());
    let site = site.unwrap_or_else(|| panic!("{:#?}", lines(&diags)));
    site.portals
        .iter()
        .find(|p| p.portal.slug == slug)
        .unwrap()
        .portal
        .clone()
}

#[test]
fn office_hours_and_a_bookable_service_are_read() {
    use lotse_model::appointment::{OfficeHours, Opening, ServiceAppointment};
    let region = bookable_region();
    region.write(SERVICE, bookable("{ duration = 30 }"));
    region.assert_warnings(&[]);
    let hours = resolved_portal(&region, "stadt-a")
        .office("buergerbuero")
        .unwrap()
        .appointments
        .clone();
    assert_eq!(
        hours,
        OfficeHours {
            opening: vec![Opening {
                days: vec![0, 1, 2, 3, 4],
                from: 8 * 60,
                to: 12 * 60,
            }],
            capacity: 2,
            closed: vec!["2026-12-24".into(), "2026-12-31".into()],
        }
    );
    assert_eq!(
        resolved(&region, "stadt-b", "leistung").appointment,
        Some(ServiceAppointment { duration: 30 })
    );
    // `capacity` defaults to 1, `closed` to none; days are sorted Monday first, once
    // each; two openings of a day that touch do not overlap; 24:00 ends the day.
    region.write(
        PORTAL_A,
        portal_with(
            "A",
            "\n[[offices.opening]]\ndays = [\"Do\", \"Mo\", \"Do\"]\nfrom = \"08:00\"\nto = \"12:00\"\n\n[[offices.opening]]\ndays = [\"Do\"]\nfrom = \"12:00\"\nto = \"24:00\"\n",
        ),
    );
    region.assert_warnings(&[]);
    let hours = resolved_portal(&region, "stadt-a")
        .office("buergerbuero")
        .unwrap()
        .appointments
        .clone();
    assert_eq!(hours.capacity, 1);
    assert!(hours.closed.is_empty());
    assert_eq!(hours.opening[0].days, vec![0, 3]);
    assert_eq!(hours.opening[1].to, 24 * 60);
    // An office without any of the keys has the defaults and takes no appointments.
    let plain = resolved_portal(&region, "stadt-a")
        .office("ohne-schluessel")
        .unwrap()
        .appointments
        .clone();
    assert_eq!(plain, OfficeHours::default());
}

#[test]
fn opening_days_must_be_german_day_names() {
    let region = bookable_region();
    region.write(
        PORTAL_A,
        portal_with("A", &HOURS.replace("\"Do\"", "\"Thu\"")),
    );
    region.assert_errors(&[region.line(
        PORTAL_A,
        13,
        27,
        "error",
        "unknown day `Thu`; use Mo, Di, Mi, Do, Fr, Sa, So",
    )]);
    region.write(
        PORTAL_A,
        portal_with(
            "A",
            &HOURS.replace(
                "days = [\"Mo\", \"Di\", \"Mi\", \"Do\", \"Fr\"]",
                "days = []",
            ),
        ),
    );
    region.assert_errors(&[region.line(
        PORTAL_A,
        12,
        1,
        "error",
        "`days` needs at least one weekday: Mo, Di, Mi, Do, Fr, Sa, So",
    )]);
}

#[test]
fn opening_times_must_be_hh_mm() {
    let region = bookable_region();
    for (from, to, at, bad, key) in [
        ("8:00", "12:00", 8, "8:00", "from"),
        ("08:00", "12:60", 6, "12:60", "to"),
        ("08.00", "12:00", 8, "08.00", "from"),
        ("08:00", "mittags", 6, "mittags", "to"),
    ] {
        let hours = HOURS
            .replace("from = \"08:00\"", &format!("from = \"{from}\""))
            .replace("to = \"12:00\"", &format!("to = \"{to}\""));
        region.write(PORTAL_A, portal_with("A", &hours));
        let line = if key == "from" { 14 } else { 15 };
        region.assert_errors(&[region.line(
            PORTAL_A,
            line,
            at,
            "error",
            &format!(
                "`{key}` must be a time as `HH:MM` (24 hours, two digits each), e.g. `08:00`, found `{bad}`"
            ),
        )]);
    }
    region.write(
        PORTAL_A,
        portal_with(
            "A",
            "\n[[offices.opening]]\ndays = [\"Mo\"]\nform = \"08:00\"\nto = \"12:00\"\n",
        ),
    );
    region.assert_errors(&[
        region.line(
            PORTAL_A,
            10,
            1,
            "error",
            "missing required key `from` in [[offices.opening]]",
        ),
        region.line(
            PORTAL_A,
            12,
            1,
            "error",
            "unknown key `form` in [[offices.opening]]; did you mean `from`?",
        ),
    ]);
}

#[test]
fn openings_must_not_be_inverted_empty_off_the_grid_or_overlap() {
    let region = bookable_region();
    let opening = |days: &str, from: &str, to: &str| {
        format!("\n[[offices.opening]]\ndays = [{days}]\nfrom = \"{from}\"\nto = \"{to}\"\n")
    };
    // Each opening takes five lines from line 9 on; `from` is its fourth, at column 8.
    let from_line = |n: u32| 9 + 5 * n + 3;
    region.write(
        PORTAL_A,
        portal_with(
            "A",
            &[
                opening("\"Mo\"", "12:00", "08:00"),
                opening("\"Di\"", "09:00", "09:00"),
                opening("\"Mi\"", "08:02", "12:00"),
                opening("\"Do\", \"Fr\"", "08:00", "12:00"),
                opening("\"Fr\"", "11:30", "15:00"),
                opening("\"Do\"", "14:00", "18:00"),
            ]
            .concat(),
        ),
    );
    region.assert_errors(&[
        region.line(
            PORTAL_A,
            from_line(0),
            8,
            "error",
            "opening from 12:00 to 08:00 does not end after it starts",
        ),
        region.line(
            PORTAL_A,
            from_line(1),
            8,
            "error",
            "opening from 09:00 to 09:00 does not end after it starts",
        ),
        region.line(
            PORTAL_A,
            from_line(2),
            8,
            "error",
            "opening times must be multiples of 5 minutes, found 08:02–12:00",
        ),
        region.line(
            PORTAL_A,
            from_line(4),
            8,
            "error",
            "openings on Fr overlap: 08:00–12:00 and 11:30–15:00",
        ),
    ]);
}

#[test]
fn closed_days_must_be_dates_and_capacity_at_least_one() {
    let region = bookable_region();
    region.write(
        PORTAL_A,
        portal_with(
            "A",
            &HOURS
                .replace("\"2026-12-31\"", "\"2026-02-30\", \"24.12.2026\"")
                .replace("capacity = 2", "capacity = 0"),
        ),
    );
    region.assert_errors(&[
        region.line(
            PORTAL_A,
            9,
            12,
            "error",
            "`capacity` is how many citizens the office serves at once and must be at least 1, found `0`",
        ),
        region.line(
            PORTAL_A,
            10,
            25,
            "error",
            "closed day `2026-02-30` is not a date; write `YYYY-MM-DD`, e.g. `2026-12-24`",
        ),
        region.line(
            PORTAL_A,
            10,
            39,
            "error",
            "closed day `24.12.2026` is not a date; write `YYYY-MM-DD`, e.g. `2026-12-24`",
        ),
    ]);
    region.write(
        PORTAL_A,
        portal_with("A", &HOURS.replace("capacity = 2", "capacity = \"zwei\"")),
    );
    region.assert_errors(&[region.line(
        PORTAL_A,
        9,
        12,
        "error",
        "`capacity` must be a whole number, found string",
    )]);
    region.write(
        PORTAL_A,
        portal_with("A", &HOURS.replace("capacity = 2", "capacty = 2")),
    );
    region.assert_errors(&[region.line(
        PORTAL_A,
        9,
        1,
        "error",
        "unknown key `capacty` in [[offices]]; did you mean `capacity`?",
    )]);
}

#[test]
fn an_appointment_needs_a_valid_duration() {
    let region = bookable_region();
    for (duration, message) in [
        (
            "32",
            "`duration` must be a multiple of 5 minutes, found `32`",
        ),
        ("0", "`duration` must be more than 0 minutes, found `0`"),
        ("-15", "`duration` must be more than 0 minutes, found `-15`"),
        (
            "1445",
            "`duration` must be at most 1440 minutes (a day), found `1445`",
        ),
        ("30.5", "`duration` must be a whole number, found float"),
    ] {
        region.write(SERVICE, bookable(&format!("{{ duration = {duration} }}")));
        region.assert_errors(&[region.line(SERVICE, 7, 28, "error", message)]);
    }
    region.write(SERVICE, bookable("{ dauer = 30 }"));
    region.assert_errors(&[
        region.line(
            SERVICE,
            7,
            15,
            "error",
            "missing required key `duration` in appointment: its length in minutes, e.g. `appointment = { duration = 30 }`",
        ),
        region.line(SERVICE, 7, 17, "error", "unknown key `dauer` in appointment"),
    ]);
    region.write(SERVICE, bookable("30"));
    region.assert_errors(&[region.line(
        SERVICE,
        7,
        15,
        "error",
        "`appointment` must be a table, found integer",
    )]);
}

#[test]
fn an_appointment_needs_an_office_with_opening_hours_it_fits_in() {
    let region = bookable_region();
    region.write(SERVICE, service("appointment = { duration = 30 }\n"));
    region.assert_errors(&[region.line(
        SERVICE,
        6,
        15,
        "error",
        "a service with `appointment` needs `office`, the office where citizens come to the appointment",
    )]);

    // Stadt B's Bürgerbüro has no opening hours: an error naming that portal only.
    region.write(PORTAL_B, portal_with("B", ""));
    region.write(SERVICE, bookable("{ duration = 30 }"));
    region.assert_errors(&[region.line(
        SERVICE,
        7,
        15,
        "error",
        "office `buergerbuero` of portal `stadt-b` has no opening hours for appointments: give it `[[offices.opening]]` in its portal.toml",
    )]);

    // Longer than every opening (08:00–12:00 is 240 minutes), in each portal.
    region.write(PORTAL_B, portal_with("B", HOURS));
    region.write(SERVICE, bookable("{ duration = 245 }"));
    let too_long = |portal: &str| {
        region.line(
            SERVICE,
            7,
            28,
            "error",
            &format!(
                "an appointment of 245 minutes fits in no opening of office `buergerbuero` of portal `{portal}`; its longest is 240 minutes"
            ),
        )
    };
    region.assert_errors(&[too_long("stadt-a"), too_long("stadt-b")]);
    region.write(SERVICE, bookable("{ duration = 240 }"));
    region.assert_warnings(&[]);
}

#[test]
fn an_office_taking_appointments_needs_a_public_key() {
    let region = bookable_region();
    let keyless = format!("{}{HOURS}", portal_with("A", HOURS));
    region.write(PORTAL_A, keyless);
    region.write(
        "portals/stadt-a/services/vorsprache.md",
        local_service("office = \"ohne-schluessel\"\nappointment = { duration = 15 }\n"),
    );
    region.assert_errors(&[region.line(
        PORTAL_A,
        18,
        6,
        "error",
        "office `ohne-schluessel` takes appointments for `vorsprache` but has no `public_key` to encrypt the citizens' names to (create one with `lotse keys new`)",
    )]);
}

#[test]
fn an_override_sets_or_replaces_the_appointment_in_its_portal() {
    let region = bookable_region();
    region.write(SERVICE, bookable("{ duration = 30 }"));
    region.write(
        "portals/stadt-b/services/leistung.md",
        "+++\nextends = \"leistung\"\nappointment = { duration = 45 }\n+++\n",
    );
    region.assert_warnings(&[]);
    let duration = |portal: &str| {
        resolved(&region, portal, "leistung")
            .appointment
            .map(|a| a.duration)
    };
    assert_eq!(duration("stadt-a"), Some(30));
    assert_eq!(duration("stadt-b"), Some(45));
    // A regional service without one: only the overriding portal books it.
    region.write(SERVICE, service("office = \"buergerbuero\"\n"));
    assert_eq!(duration("stadt-a"), None);
    assert_eq!(duration("stadt-b"), Some(45));
}

#[test]
fn region_sets_how_many_weeks_ahead_citizens_can_book() {
    let region = Region::new();
    let weeks = |region: &Region| {
        let (site, diags) = build::check(region.root());
        let site = site.unwrap_or_else(|| panic!("{:#?}", lines(&diags)));
        (site.region.appointment_weeks, site.region.booking_weeks())
    };
    assert_eq!(weeks(&region), (None, 8), "the default");
    region.append("region.toml", "\n[appointments]\nweeks = 12\n");
    assert_eq!(weeks(&region), (Some(12), 12));
    for (value, message) in [
        (
            "0",
            "`weeks` is how far ahead citizens can book and must be from 1 to 52, found `0`",
        ),
        (
            "53",
            "`weeks` is how far ahead citizens can book and must be from 1 to 52, found `53`",
        ),
        ("\"acht\"", "`weeks` must be a whole number, found string"),
    ] {
        region.write(
            "region.toml",
            fs::read_to_string(region.root().join("region.toml"))
                .unwrap()
                .split("\n[appointments]")
                .next()
                .unwrap()
                .to_string()
                + &format!("\n[appointments]\nweeks = {value}\n"),
        );
        region.assert_errors(&[region.line("region.toml", 7, 9, "error", message)]);
    }
    region.write(
        "region.toml",
        fs::read_to_string(region.root().join("region.toml"))
            .unwrap()
            .replace("weeks = \"acht\"", "wochen = 8"),
    );
    region.assert_errors(&[region.line(
        "region.toml",
        7,
        1,
        "error",
        "unknown key `wochen` in [appointments]",
    )]);
}
