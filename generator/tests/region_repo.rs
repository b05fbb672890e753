//! A region in its own repository (issue 11): `lotse init` makes one that builds with
//! the built-in theme from any folder, a theme folder overrides single files, and the
//! repository deploys with the worker from the installed `lotse` (`wrangler deploy
//! --dry-run`, then a real `wrangler dev` run: apply, status, office inbox, decrypt).

mod common;
#[allow(dead_code)]
mod http;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::servers::{free_port, repo, wait_until_answers, Running};
use http::Client;

fn lotse(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("lotse runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `lotse init` into `<tmp>/region` from a folder outside this repository.
fn new_region(tmp: &Path) -> PathBuf {
    let init = lotse(
        tmp,
        &[
            "init",
            "region",
            "--region",
            "Emscher-Lippe",
            "--city",
            "Musterstadt",
        ],
    );
    assert!(
        init.status.success(),
        "lotse init failed: {}",
        stderr(&init)
    );
    tmp.join("region")
}

#[test]
fn init_makes_a_repository_that_checks_and_builds_outside_this_one() {
    let tmp = tempfile::tempdir().unwrap();
    let region = new_region(tmp.path());
    for file in [
        "README.md",
        ".gitignore",
        "wrangler.toml",
        "content/region.toml",
        "content/categories.toml",
        "content/portals/musterstadt/portal.toml",
        "content/portals/musterstadt/services/fundsache-melden.md",
        "content/portals/musterstadt/pages/impressum.md",
        "content/portals/musterstadt/pages/datenschutz.md",
    ] {
        assert!(region.join(file).is_file(), "{file} missing");
    }
    assert!(
        !region.join("themes").exists(),
        "the theme is built in, not copied"
    );

    // The private key: outside content/, owner-only, ignored by git; its public half
    // is the office's key in portal.toml.
    let key_file = region.join("keys/musterstadt/buergerbuero.key");
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    let key = lotse_envelope::PrivateKey::from_key_file(&key_text).unwrap();
    let portal =
        std::fs::read_to_string(region.join("content/portals/musterstadt/portal.toml")).unwrap();
    assert!(portal.contains(&format!(
        "public_key = \"{}\"",
        key.public_key().to_base64()
    )));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key is readable by others: {mode:o}");
    }
    let ignored = std::fs::read_to_string(region.join(".gitignore")).unwrap();
    assert!(ignored.lines().any(|l| l == "/keys/"), "{ignored}");
    let categories = std::fs::read_to_string(region.join("content/categories.toml")).unwrap();
    assert_eq!(categories.matches("[[categories]]").count(), 14);

    // A second init into the same folder refuses and changes nothing.
    let again = lotse(tmp.path(), &["init", "region"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("is not empty"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key_text);

    let check = lotse(&region, &["check", "--content", "content"]);
    assert!(
        check.status.success(),
        "lotse check failed: {}",
        stderr(&check)
    );
    assert!(!stderr(&check).contains("error:"), "{}", stderr(&check));

    let build = lotse(&region, &["build", "--content", "content"]);
    assert!(
        build.status.success(),
        "lotse build failed: {}",
        stderr(&build)
    );
    let dist = region.join("dist");
    for page in [
        "index.html",
        "themen/recht-ordnung/index.html",
        "musterstadt/index.html",
        "musterstadt/themen/recht-ordnung/index.html",
        "musterstadt/a-z/index.html",
        "musterstadt/impressum/index.html",
        "musterstadt/datenschutz/index.html",
        "musterstadt/suche/index.html",
        "404.html",
        "sitemap.xml",
        "robots.txt",
        "forms/musterstadt/fundsache-melden.json",
        "musterstadt/pagefind/pagefind.js",
    ] {
        assert!(dist.join(page).is_file(), "{page} missing");
    }
    let service =
        std::fs::read_to_string(dist.join("musterstadt/fundsache-melden/index.html")).unwrap();
    assert!(service.contains("<form") && service.contains("Fundsache melden"));
    // The stylesheet is the built-in theme's.
    assert_eq!(
        std::fs::read(dist.join("assets/style.css")).unwrap(),
        std::fs::read(repo().join("themes/default/static/style.css")).unwrap()
    );
}

#[test]
fn a_theme_folder_overrides_one_template_and_a_broken_one_names_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    let region = new_region(tmp.path());
    let templates = region.join("themes/default/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("404.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>Hier ist nichts, Musterstadt</h1>{% endblock content %}",
    )
    .unwrap();
    let build = lotse(&region, &["build", "--content", "content", "--no-search"]);
    assert!(build.status.success(), "{}", stderr(&build));
    let not_found = std::fs::read_to_string(region.join("dist/404.html")).unwrap();
    assert!(
        not_found.contains("Hier ist nichts, Musterstadt"),
        "{not_found}"
    );
    let home = std::fs::read_to_string(region.join("dist/musterstadt/index.html")).unwrap();
    assert!(
        home.contains("Fundsache melden"),
        "the other templates stay built in"
    );

    // A template that includes one that exists nowhere: exit 1, the file and the name.
    let service = templates.join("service.html");
    std::fs::write(
        &service,
        "{% extends \"base.html\" %}{% block content %}{% include \"kontaktbox.html\" %}{% endblock content %}",
    )
    .unwrap();
    let broken = lotse(&region, &["build", "--content", "content", "--no-search"]);
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    let message = stderr(&broken);
    assert!(
        message.contains(&service.display().to_string()),
        "{message}"
    );
    assert!(message.contains("includes `kontaktbox.html`"), "{message}");
    assert!(
        !message.contains("Template 'kontaktbox.html' not found"),
        "{message}"
    );
    let unchanged = std::fs::read_to_string(region.join("dist/404.html")).unwrap();
    assert_eq!(
        unchanged, not_found,
        "a failed build leaves dist/ as it was"
    );

    // `--theme DIR` names another folder; it overrides the built-in theme the same way.
    let other = tmp.path().join("anderes-theme");
    std::fs::create_dir_all(other.join("static")).unwrap();
    std::fs::write(other.join("static/extra.css"), "main{}").unwrap();
    let themed = lotse(
        &region,
        &["build", "--content", "content", "--no-search", "--theme"],
    );
    assert_eq!(themed.status.code(), Some(2), "--theme needs a folder");
    let themed = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(&region)
        .args(["build", "--content", "content", "--no-search", "--theme"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(themed.status.success(), "{}", stderr(&themed));
    assert!(region.join("dist/assets/extra.css").is_file());
    assert!(!std::fs::read_to_string(region.join("dist/404.html"))
        .unwrap()
        .contains("Musterstadt</h1>"));
}

#[test]
fn the_example_content_alone_builds_every_page_type() {
    let tmp = tempfile::tempdir().unwrap();
    let content = tmp.path().join("content");
    common::copy_dir(&repo().join("content"), &content);
    let build = lotse(
        tmp.path(),
        &["build", "--content", "content", "--no-search"],
    );
    assert!(build.status.success(), "{}", stderr(&build));
    let dist = tmp.path().join("dist");
    for page in [
        "index.html",
        "themen/familie-kind/index.html",
        "bottrop/index.html",
        "bottrop/themen/familie-kind/index.html",
        "bottrop/hund-anmelden/index.html",
        "bottrop/fundsache-melden/index.html",
        "bottrop/a-z/index.html",
        "bottrop/impressum/index.html",
        "bottrop/barrierefreiheit/index.html",
        "bottrop/leichte-sprache/index.html",
        "bottrop/gebaerdensprache/index.html",
        "bottrop/suche/index.html",
        "suche/index.html",
        "404.html",
        "sitemap.xml",
        "robots.txt",
        "assets/style.css",
        "_headers",
    ] {
        assert!(dist.join(page).is_file(), "{page} missing");
    }
}

/// The repository deploys with the worker the installed `lotse` carries: its
/// wrangler.toml's build command is `lotse worker`, so `wrangler deploy --dry-run` and
/// `wrangler dev` need no Rust toolchain, only `lotse` on PATH.
#[test]
fn the_region_repository_deploys_and_runs_under_wrangler_dev() {
    let wrangler = repo().join("functions/worker/node_modules/.bin/wrangler");
    if !wrangler.exists() || !lotse::worker_bundle::is_bundled() {
        let missing = "wrangler or a worker built into lotse is missing: run scripts/worker-tools.sh and scripts/worker-build.sh";
        assert!(
            std::env::var("LOTSE_REQUIRE_WORKERD").is_err(),
            "LOTSE_REQUIRE_WORKERD is set but {missing}"
        );
        eprintln!("skipped: {missing}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let region = new_region(tmp.path());
    let build = lotse(&region, &["build", "--content", "content", "--no-search"]);
    assert!(build.status.success(), "{}", stderr(&build));

    let bin_dir = Path::new(env!("CARGO_BIN_EXE_lotse"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let state = tmp.path().join("state");
    let wrangler_cmd = |args: &[&str]| {
        let mut command = Command::new(&wrangler);
        command
            .current_dir(&region)
            .args(args)
            .env("PATH", &path)
            .env("CI", "true")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("WRANGLER_LOG_PATH", tmp.path().join("logs"));
        command
    };

    let bundle = tmp.path().join("bundle");
    let dry = wrangler_cmd(&["deploy", "--dry-run", "--outdir"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        dry.status.success(),
        "wrangler deploy --dry-run: {}{}",
        String::from_utf8_lossy(&dry.stdout),
        stderr(&dry)
    );
    assert!(
        region.join("build/worker/index_bg.wasm").is_file(),
        "the build command wrote the worker"
    );
    let bundled: Vec<String> = std::fs::read_dir(&bundle)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(bundled.iter().any(|f| f.ends_with(".wasm")), "{bundled:?}");

    let migrate = wrangler_cmd(&["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "migrations: {}{}",
        String::from_utf8_lossy(&migrate.stdout),
        stderr(&migrate)
    );

    let token = "region-office-token-0123456789";
    let port = free_port();
    let child = wrangler_cmd(&[
        "dev",
        "--local",
        "--ip",
        "127.0.0.1",
        "--inspector-port",
        "0",
        "--show-interactive-dev-session=false",
        "--port",
    ])
    .arg(port.to_string())
    .arg("--persist-to")
    .arg(&state)
    .arg("--var")
    .arg(format!(
        r#"OFFICE_TOKENS:{{"musterstadt/buergerbuero": "{token}"}}"#
    ))
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut running = Running { child, data: None };
    wait_until_answers(
        port,
        &mut running,
        &["/musterstadt/"],
        Duration::from_secs(120),
    );

    let client = Client::new(&format!("http://127.0.0.1:{port}"));
    let submitted = client.post_json(
        "/api/applications",
        &[],
        &serde_json::json!({
            "portal": "musterstadt",
            "service": "fundsache-melden",
            "fields": {
                "gegenstand": "Schwarzer Regenschirm",
                "fundort": "Bushaltestelle am Rathaus",
                "funddatum": "2026-11-30",
                "email": "finderin@example.de"
            }
        }),
    );
    assert_eq!(submitted.status, 201, "{}", submitted.body);
    let receipt = submitted.json();
    let (id, receipt_token) = (
        receipt["id"].as_str().unwrap(),
        receipt["token"].as_str().unwrap(),
    );
    let status = client.get(
        &format!("/api/applications/{id}"),
        &[("authorization", &format!("Bearer {receipt_token}"))],
    );
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.json()["status"], "received");

    let inbox = client.get(
        "/api/office/musterstadt/buergerbuero/applications",
        &[("authorization", &format!("Bearer {token}"))],
    );
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert!(
        !inbox.body.contains("Regenschirm"),
        "the edge stores no plaintext"
    );
    let envelopes = tmp.path().join("inbox.json");
    std::fs::write(&envelopes, &inbox.body).unwrap();
    let decrypted = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(&region)
        .args([
            "inbox",
            "decrypt",
            "--key",
            "keys/musterstadt/buergerbuero.key",
        ])
        .arg(&envelopes)
        .output()
        .unwrap();
    assert!(decrypted.status.success(), "{}", stderr(&decrypted));
    assert!(String::from_utf8_lossy(&decrypted.stdout).contains("Schwarzer Regenschirm"));
}
