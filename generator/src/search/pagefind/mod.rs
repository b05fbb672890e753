//! Pagefind-compatible indexes written by Lotse itself.
//!
//! Pagefind's own indexer spent 10 of the 13 s of a build of the 18,200-service corpus
//! (docs/search.md has the profile): half of it parsing HTML and stemming the same
//! words again for every page and every portal, a seventh gzipping at the best level.
//! This module produces the same files from the records directly: `digest` applies
//! Pagefind's HTML rules to our (trusted, well-formed) record HTML, `words` splits and
//! stems words the way Pagefind does and remembers each spelling, `index` builds the
//! word list, chunks, filters and fragments, and `format` encodes them in Pagefind
//! 1.6's file layout. Pagefind's search client (`pagefind.js` and its WebAssembly,
//! taken from the `pagefind` crate by [`client_files`]) reads them unchanged.
//!
//! A test builds the same records with Pagefind's indexer and compares the decoded
//! files (tests in `search/mod.rs`).

mod digest;
mod format;
mod index;
#[cfg(test)]
mod tests;
mod words;

use std::sync::OnceLock;

use anyhow::{Context as _, Result};

pub use index::build;

/// The client's files every index folder carries: `pagefind.js`, `pagefind-worker.js`
/// and `wasm.de.pagefind` (Pagefind's search code, with the German stemmer), as the
/// `pagefind` crate ships them for this version.
pub fn client_files() -> Result<&'static [(String, Vec<u8>)]> {
    type Files = std::result::Result<Vec<(String, Vec<u8>)>, String>;
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES
        .get_or_init(|| pagefind_client_files().map_err(|e| format!("{e:#}")))
        .as_deref()
        .map_err(|e| anyhow::anyhow!("cannot take the search client from Pagefind: {e}"))
}

const CLIENT_FILES: &[&str] = &["pagefind.js", "pagefind-worker.js", "wasm.de.pagefind"];

/// Pagefind writes its client only together with an index: one of a single record.
fn pagefind_client_files() -> Result<Vec<(String, Vec<u8>)>> {
    use pagefind::api::PagefindIndex;
    use pagefind::options::PagefindServiceConfig;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime for Pagefind")?;
    let files = runtime.block_on(async {
        let options = PagefindServiceConfig::builder()
            .force_language(format::LANGUAGE.to_string())
            .build();
        let mut index = PagefindIndex::new(Some(options))?;
        index
            .add_custom_record(
                "/".into(),
                "Lotse".into(),
                format::LANGUAGE.into(),
                None,
                None,
                None,
            )
            .await?;
        index.get_files().await
    })?;
    let mut out: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|f| (f.filename.to_string_lossy().replace('\\', "/"), f.contents))
        .filter(|(name, _)| CLIENT_FILES.contains(&name.as_str()))
        .collect();
    out.sort();
    anyhow::ensure!(
        out.len() == CLIENT_FILES.len(),
        "Pagefind wrote {} of the {} client files",
        out.len(),
        CLIENT_FILES.len()
    );
    Ok(out)
}
