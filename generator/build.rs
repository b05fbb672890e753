//! Embeds into `lotse` what a region's own repository must not need to carry:
//! the default theme (`themes/default/`), the D1 migrations (`functions/migrations/`)
//! and, when it has been built, the Cloudflare worker (`functions/worker/build/`).
//!
//! Each file becomes an `include_bytes!`, so rustc tracks its contents; the folders are
//! watched too, so that an added or removed file re-runs this script. (`include_dir`
//! does not track changes on stable Rust, which is why this is done by hand.)

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .expect("generator/ sits in the workspace")
        .to_path_buf();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));

    let theme = root.join("themes/default");
    let migrations = root.join("functions/migrations");
    write_table(
        &out.join("embedded_theme.rs"),
        "THEME_FILES",
        &theme,
        &files_under(&theme),
    );
    write_table(
        &out.join("embedded_migrations.rs"),
        "MIGRATION_FILES",
        &migrations,
        &files_under(&migrations),
    );
    println!("cargo:rerun-if-changed={}", theme.display());
    println!("cargo:rerun-if-changed={}", migrations.display());

    // The worker is built by scripts/worker-build.sh (it needs the wasm toolchain, which
    // a city's machine does not have). Without a build, `lotse worker` says how to get one.
    println!("cargo:rerun-if-env-changed=LOTSE_WORKER_DIR");
    let worker = std::env::var_os("LOTSE_WORKER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("functions/worker/build"));
    let bundle = ["index.js", "index_bg.wasm"];
    let built = bundle.iter().all(|f| worker.join(f).is_file());
    let files: Vec<PathBuf> = if built {
        bundle.iter().map(PathBuf::from).collect()
    } else {
        Vec::new()
    };
    write_table(
        &out.join("embedded_worker.rs"),
        "WORKER_FILES",
        &worker,
        &files,
    );
    if built {
        println!("cargo:rerun-if-changed={}", worker.display());
    } else {
        // Watching the missing folder would re-run this script on every build; its parent
        // exists and changes when the build folder appears.
        let parent = worker.parent().unwrap_or(&root);
        println!("cargo:rerun-if-changed={}", parent.display());
    }
}

/// Every file below `dir`, as paths relative to it, sorted, so the output is stable.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            // Editor droppings (.swp, .DS_Store) are no part of a theme.
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                walk(&path, &rel.join(&name), out);
            } else {
                out.push(rel.join(&name));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out);
    out.sort();
    out
}

fn write_table(target: &Path, name: &str, dir: &Path, files: &[PathBuf]) {
    let mut code = format!("pub static {name}: &[(&str, &[u8])] = &[\n");
    for rel in files {
        let key = rel.to_string_lossy().replace('\\', "/");
        let abs = dir.join(rel);
        writeln!(
            code,
            "    ({key:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    code.push_str("];\n");
    std::fs::write(target, code).expect("OUT_DIR is writable");
}
