//! `lotse serve` reads only the files an edit changed (`serve::Reloader`). After each
//! of a series of edits to a copy of the example region — bodies, titles, a local
//! override, portal.toml, an umbrella page, errors brought in and fixed again, files
//! added and deleted, region.toml — the incremental state must equal a full load of
//! the folder: the same diagnostics as `lotse check` (file and position included), the
//! same resolved site, and once rendered the same files as a full rendering.

use std::fs;
use std::path::{Path, PathBuf};

use lotse::build;
use lotse::diagnostics::{Diagnostics, Severity};
use lotse::render::Theme;
use lotse::resolve::Site;
use lotse::serve::Reloader;

mod common;
use common::{copy_dir, edit};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn append(path: &Path, text: &str) {
    let before = fs::read_to_string(path).unwrap();
    fs::write(path, format!("{before}{text}")).unwrap();
}

fn assert_same_site(step: &str, incremental: Option<&Site>, full: Option<&Site>) {
    let (Some(a), Some(b)) = (incremental, full) else {
        assert_eq!(incremental.is_none(), full.is_none(), "{step}: site");
        return;
    };
    assert_eq!(a.region, b.region, "{step}: region");
    assert_eq!(a.categories, b.categories, "{step}: categories");
    assert_eq!(a.pages, b.pages, "{step}: umbrella pages");
    assert_eq!(a.portals.len(), b.portals.len(), "{step}: portals");
    for (pa, pb) in a.portals.iter().zip(&b.portals) {
        let slug = &pb.portal.slug;
        assert_eq!(pa.portal, pb.portal, "{step}: portal {slug}");
        assert_eq!(pa.dir, pb.dir, "{step}: folder of {slug}");
        assert_eq!(
            pa.services.len(),
            pb.services.len(),
            "{step}: services of {slug}"
        );
        for (sa, sb) in pa.services.iter().zip(&pb.services) {
            assert_eq!(sa, sb, "{step}: service {} of {slug}", sb.service.slug);
        }
        assert_eq!(pa.pages, pb.pages, "{step}: pages of {slug}");
    }
}

/// Compares the incremental state with a full load (and, without errors, a full
/// rendering) of `content`.
fn assert_like_full_load(step: &str, reloader: &mut Reloader, content: &Path, theme: &Theme) {
    let (_, checked) = build::check(content);
    assert_eq!(
        reloader.diagnostics(),
        checked.as_slice(),
        "{step}: diagnostics differ from lotse check's"
    );
    let diags = Diagnostics::new();
    let loaded = lotse::load::load(content, &diags);
    let site = lotse::resolve::resolve(&loaded);
    assert_same_site(step, reloader.site(), site.as_ref());

    if checked.iter().any(|d| d.severity == Severity::Error) {
        assert!(reloader.has_errors(), "{step}: errors");
        assert!(reloader.render(theme, false).is_err(), "{step}: rendered");
        return;
    }
    reloader.render(theme, false).expect("renders");
    let mut fresh = Reloader::new(content);
    fresh.render(theme, true).expect("a full rendering");
    let (ours, theirs) = (reloader.files(), fresh.files());
    assert_eq!(ours.paths(), theirs.paths(), "{step}: the files rendered");
    for path in theirs.paths() {
        assert!(
            ours.get(&path) == theirs.get(&path),
            "{step}: {path} differs from a full rendering"
        );
    }
}

#[test]
fn incremental_reloads_equal_full_loads() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    copy_dir(&repo().join("content"), &content);
    let theme = Theme::load(Some(&repo().join("themes/default"))).unwrap();
    let mut reloader = Reloader::new(&content);
    assert!(!reloader.has_errors(), "{:?}", reloader.diagnostics());
    reloader.render(&theme, true).unwrap();

    let regional = content.join("services/hund-anmelden.md");
    let bottrop = content.join("portals/bottrop");
    let local = bottrop.join("services/sperrmuell-anmelden.md");
    let marl_local = content.join("portals/marl/services/neu-hier.md");
    let step = |name: &str, changed: Vec<PathBuf>, reloader: &mut Reloader| {
        reloader.update(&changed);
        assert_like_full_load(name, reloader, &content, &theme);
    };

    append(
        &regional,
        "\nEin neuer Absatz mit [Link](../personalausweis/).\n",
    );
    step(
        "body of a regional service",
        vec![regional.clone()],
        &mut reloader,
    );

    edit(&regional, "title = \"", "title = \"Neu: ");
    step(
        "title of a regional service",
        vec![regional.clone()],
        &mut reloader,
    );

    edit(&regional, "portals = [", "portals = [\"marl\", ");
    step(
        "portals of a regional service",
        vec![regional.clone()],
        &mut reloader,
    );

    edit(&local, "summary = \"", "summary = \"Geändert: ");
    step("a local override", vec![local.clone()], &mut reloader);

    // Broken TOML: the error names the file and line; the last files stay served.
    edit(&local, "processing_time = \"", "processing_time = = \"");
    step("a syntax error", vec![local.clone()], &mut reloader);
    let error = reloader
        .diagnostics()
        .iter()
        .find(|d| d.severity == Severity::Error)
        .expect("an error")
        .clone();
    assert!(
        error.loc.path.ends_with("sperrmuell-anmelden.md"),
        "{error}"
    );
    assert!(error.loc.line > 1, "{error}");

    append(
        &regional,
        "\nNoch ein Absatz, während der Fehler besteht.\n",
    );
    step(
        "an edit while broken",
        vec![regional.clone()],
        &mut reloader,
    );

    edit(&local, "processing_time = = \"", "processing_time = \"");
    step("the syntax error fixed", vec![local.clone()], &mut reloader);
    assert!(!reloader.has_errors());

    // An error only the checks find (an unknown category), and its fix.
    edit(
        &regional,
        "categories = [\"",
        "categories = [\"gibt-es-nicht\", \"",
    );
    step("an unknown category", vec![regional.clone()], &mut reloader);
    assert!(reloader.has_errors());
    edit(
        &regional,
        "categories = [\"gibt-es-nicht\", \"",
        "categories = [\"",
    );
    step("the category fixed", vec![regional.clone()], &mut reloader);

    fs::write(
        &marl_local,
        "+++\ntitle = \"Neu hier\"\nsummary = \"Ein neuer Dienst.\"\ncategories = [\"umwelt-tiere\"]\n+++\n\nText mit [kaputtem Link](../gibt-es-nicht/).\n",
    )
    .unwrap();
    step(
        "a local file added (with a broken link)",
        vec![marl_local.clone()],
        &mut reloader,
    );
    assert!(reloader.has_errors());
    edit(&marl_local, "../gibt-es-nicht/", "../impressum/");
    step("its link fixed", vec![marl_local.clone()], &mut reloader);

    // A second file of the same slug, and a file that is not Markdown.
    let twin = content.join("portals/marl/services/Neu-Hier.md");
    fs::copy(&marl_local, &twin).unwrap();
    let stray = content.join("portals/marl/services/notizen.txt");
    fs::write(&stray, "nicht lesen").unwrap();
    step(
        "a duplicate slug and a stray file",
        vec![twin.clone(), stray.clone()],
        &mut reloader,
    );
    fs::remove_file(&twin).unwrap();
    fs::remove_file(&stray).unwrap();
    step("both removed", vec![twin, stray], &mut reloader);

    fs::remove_file(&marl_local).unwrap();
    step(
        "a local file deleted",
        vec![marl_local.clone()],
        &mut reloader,
    );

    let deleted = content.join("services/sperrmuell-anmelden.md");
    fs::remove_file(&deleted).unwrap();
    step(
        "a regional service deleted (its overrides now extend nothing)",
        vec![deleted],
        &mut reloader,
    );
    assert!(reloader.has_errors());
    fs::remove_file(&local).unwrap();
    step("the override deleted", vec![local.clone()], &mut reloader);

    let impressum = content.join("pages/impressum.md");
    append(&impressum, "\nNeuer Absatz im Impressum.\n");
    step("an umbrella page", vec![impressum], &mut reloader);

    let page = bottrop.join("pages/neue-seite.md");
    fs::write(&page, "+++\ntitle = \"Neue Seite\"\n+++\n\nText.\n").unwrap();
    step("a portal page added", vec![page.clone()], &mut reloader);
    edit(&page, "title = \"Neue Seite\"", "titel = \"Neue Seite\"");
    step("a portal page broken", vec![page.clone()], &mut reloader);
    fs::remove_file(&page).unwrap();
    step("the portal page deleted", vec![page], &mut reloader);

    let portal = bottrop.join("portal.toml");
    edit(
        &portal,
        "name = \"Bürgerbüro im Rathaus\"",
        "name = \"Bürgerbüro\"",
    );
    step("portal.toml", vec![portal.clone()], &mut reloader);
    edit(&portal, "name = \"Bürgerbüro\"", "nam = \"Bürgerbüro\"");
    step(
        "portal.toml with an unknown key",
        vec![portal.clone()],
        &mut reloader,
    );
    edit(&portal, "nam = \"Bürgerbüro\"", "name = \"Bürgerbüro\"");
    step("portal.toml fixed", vec![portal.clone()], &mut reloader);

    let region = content.join("region.toml");
    edit(&region, "name = \"", "name = \"Neues ");
    step(
        "region.toml (everything read again)",
        vec![region],
        &mut reloader,
    );

    // Several files at once, and the content folder itself (events were lost).
    append(&regional, "\nLetzter Absatz.\n");
    let marl = content.join("portals/marl/portal.toml");
    edit(&marl, "name = \"", "name = \"Die ");
    step(
        "two files at once",
        vec![regional.clone(), marl],
        &mut reloader,
    );
    step("the whole folder", vec![content.clone()], &mut reloader);
    step(
        "a path outside the content",
        vec![dir.path().join("elsewhere.md")],
        &mut reloader,
    );
}
