//! The Cloudflare worker as `lotse` carries it: the built `index.js` + `index_bg.wasm`
//! of functions/worker (embedded by generator/build.rs when scripts/worker-build.sh has
//! built them) and the D1 migrations. `lotse worker --out DIR` writes them, so that a
//! region's repository deploys with `wrangler deploy` and no Rust wasm toolchain.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_worker.rs"));
    include!(concat!(env!("OUT_DIR"), "/embedded_migrations.rs"));
}

/// The folder, under the worker's, that `migrations_dir` in wrangler.toml names.
pub const MIGRATIONS: &str = "migrations";

/// Whether this `lotse` was built with the worker.
pub fn is_bundled() -> bool {
    !embedded::WORKER_FILES.is_empty()
}

/// What [`write`] wrote.
#[derive(Debug)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub wasm_bytes: usize,
}

/// Writes the worker and its migrations into `out` (created; earlier files of the same
/// names are replaced, others left alone).
pub fn write(out: &Path) -> Result<Written> {
    if !is_bundled() {
        bail!(
            "this lotse was built without the Cloudflare worker. In a checkout of Lotse run \
             scripts/worker-tools.sh and scripts/worker-build.sh, then build or install \
             lotse again (cargo install --locked --path generator)"
        );
    }
    let mut files = Vec::new();
    let mut wasm_bytes = 0;
    let worker = embedded::WORKER_FILES
        .iter()
        .map(|(name, bytes)| (name.to_string(), bytes));
    let migrations = embedded::MIGRATION_FILES
        .iter()
        .map(|(name, bytes)| (format!("{MIGRATIONS}/{name}"), bytes));
    for (rel, bytes) in worker.chain(migrations) {
        let path = out.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        if rel.ends_with(".wasm") {
            wasm_bytes = bytes.len();
        }
        files.push(path);
    }
    Ok(Written { files, wasm_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_always_embedded() {
        assert!(embedded::MIGRATION_FILES
            .iter()
            .any(|(name, sql)| name.ends_with(".sql") && !sql.is_empty()));
    }

    #[test]
    fn writes_the_bundle_or_says_how_to_get_one() {
        // CI builds the worker first; there a lotse without it is a failure.
        if std::env::var_os("LOTSE_REQUIRE_WORKERD").is_some() {
            assert!(
                is_bundled(),
                "LOTSE_REQUIRE_WORKERD is set but lotse has no worker"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        match write(dir.path()) {
            Ok(written) => {
                assert!(dir.path().join("index.js").is_file());
                assert!(dir.path().join("index_bg.wasm").is_file());
                assert!(written.wasm_bytes > 0);
                assert!(dir.path().join(MIGRATIONS).read_dir().unwrap().count() > 0);
            }
            Err(e) => {
                assert!(!is_bundled());
                assert!(e.to_string().contains("scripts/worker-build.sh"), "{e}");
            }
        }
    }
}
