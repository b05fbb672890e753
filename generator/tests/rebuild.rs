//! `lotse build` into an output folder that holds an earlier build renders only the
//! pages whose inputs changed and links the others (`render/stamps.rs`). Whatever the
//! edit, the result must be byte for byte what a build into an empty folder gives.

use std::fs;
use std::path::{Path, PathBuf};

use lotse::build::{self, BuildOutcome, BuildReport};

mod common;
use common::{copy_dir, edit, lines, snapshot, theme_dir, write};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn build_into(content: &Path, theme: &Path, out: &Path) -> BuildReport {
    match build::build(content, theme, out, false).unwrap() {
        BuildOutcome::Built(report, _) => report,
        BuildOutcome::Invalid(d) => panic!("{}", lines(&d).join("\n")),
    }
}

/// Builds `content` into `out` (which holds the previous build) and into a new folder,
/// asserts both are the same files, and returns the report of the build into `out`.
fn rebuild_equals_fresh(tmp: &Path, content: &Path, theme: &Path, out: &Path) -> BuildReport {
    let report = build_into(content, theme, out);
    let fresh = tmp.join("fresh");
    let _ = fs::remove_dir_all(&fresh);
    build_into(content, theme, &fresh);
    let (got, want) = (snapshot(out), snapshot(&fresh));
    let differing: Vec<_> = want
        .iter()
        .filter(|(path, bytes)| got.get(*path) != Some(bytes))
        .map(|(path, _)| path.display().to_string())
        .chain(
            got.keys()
                .filter(|path| !want.contains_key(*path))
                .map(|path| format!("{} (left over)", path.display())),
        )
        .collect();
    assert!(
        differing.is_empty(),
        "the rebuild differs from a fresh build in {differing:?}"
    );
    report
}

/// A copy of the example region and where it is built: (folder, content, output).
fn example() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let content = tmp.path().join("content");
    copy_dir(&repo().join("content"), &content);
    let out = tmp.path().join("dist");
    (tmp, content, out)
}

#[test]
fn each_edit_renders_what_it_changed_and_gives_what_a_fresh_build_gives() {
    let (dir, content, out) = example();
    let tmp = dir.path();
    let theme = theme_dir();

    let first = build_into(&content, &theme, &out);
    assert_eq!(first.reused, 0, "nothing to take from an empty folder");
    let total = first.pages;
    assert!(out.join(lotse::render::stamps::MANIFEST).is_file());

    let again = rebuild_equals_fresh(tmp, &content, &theme, &out);
    assert_eq!(again.reused, total, "nothing changed: every page is taken");

    // A regional body: the service's page in each portal that shows it, nothing else
    // (no list shows the body). Gelsenkirchen writes its own text (`extends` with a
    // body of its own), so its page stays.
    let offering = fs::read_dir(out.as_path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("hund-anmelden/index.html").is_file())
        .count();
    assert!(offering > 3, "the example offers hund-anmelden widely");
    let hund = content.join("services/hund-anmelden.md");
    let text = fs::read_to_string(&hund).unwrap();
    fs::write(
        &hund,
        format!("{text}\nEin Absatz, den es vorher nicht gab.\n"),
    )
    .unwrap();
    let body = rebuild_equals_fresh(tmp, &content, &theme, &out);
    assert_eq!(body.pages - body.reused, offering - 1, "{body:?}");

    // A local title: that page, and the lists of its portal and the umbrella.
    edit(
        &content.join("portals/bottrop/services/sperrmuell-anmelden.md"),
        "+++\n",
        "+++\ntitle = \"Sperrmüll und Elektroschrott anmelden\"\n",
    );
    let title = rebuild_equals_fresh(tmp, &content, &theme, &out);
    let rendered = title.pages - title.reused;
    assert!(
        rendered > 3 && rendered < total / 4,
        "a title renders its page and some lists: {rendered} of {total}"
    );

    // A new service and a removed one; the removed page must not be left over.
    write(
        &content,
        "portals/herten/services/schrebergarten-pachten.md",
        "+++\ntitle = \"Schrebergarten pachten\"\nsummary = \"Eine Parzelle in einer \
         Kleingartenanlage der Stadt pachten.\"\ncategories = [\"bauen-wohnen\"]\n\
         office = \"buergerbuero\"\n+++\n\nDie Kleingartenvereine vergeben freie Parzellen.\n",
    );
    fs::remove_file(content.join("portals/herten/services/grabnutzungsrecht-verlaengern.md"))
        .unwrap();
    rebuild_equals_fresh(tmp, &content, &theme, &out);
    assert!(!out
        .join("herten/grabnutzungsrecht-verlaengern/index.html")
        .exists());

    // The region's name is on every page.
    edit(
        &content.join("region.toml"),
        "name = \"Serviceportal Emscher-Lippe\"",
        "name = \"Serviceportal der Emscher-Lippe-Region\"",
    );
    let region = rebuild_equals_fresh(tmp, &content, &theme, &out);
    assert_eq!(region.reused, 0, "{region:?}");

    // Another theme: every page again.
    let own_theme = tmp.join("theme");
    copy_dir(&theme, &own_theme);
    let base = own_theme.join("templates/base.html");
    let text = fs::read_to_string(&base).unwrap();
    fs::write(
        &base,
        text.replacen("<body", "<!-- eigenes Thema -->\n<body", 1),
    )
    .unwrap();
    let themed = rebuild_equals_fresh(tmp, &content, &own_theme, &out);
    assert_eq!(themed.reused, 0, "{themed:?}");
    assert!(fs::read_to_string(out.join("index.html"))
        .unwrap()
        .contains("eigenes Thema"));
}

#[test]
fn a_damaged_manifest_or_missing_page_is_rendered_again() {
    let (dir, content, out) = example();
    let tmp = dir.path();
    let theme = theme_dir();
    let first = build_into(&content, &theme, &out);

    // A page deleted by hand from the output is rendered, not linked from nowhere.
    fs::remove_file(out.join("bottrop/sperrmuell-anmelden/index.html")).unwrap();
    let missing = rebuild_equals_fresh(tmp, &content, &theme, &out);
    assert_eq!(missing.reused, first.pages - 1, "{missing:?}");

    // A manifest that cannot be read takes nothing.
    fs::write(
        out.join(lotse::render::stamps::MANIFEST),
        b"\xff\xfe kaputt",
    )
    .unwrap();
    let damaged = rebuild_equals_fresh(tmp, &content, &theme, &out);
    assert_eq!(damaged.reused, 0, "{damaged:?}");
}
