//! Where a render's output goes and what it reports back: the pipeline writes into a
//! staging folder under `lotse build` and into memory under `lotse serve`, so the
//! renderer knows neither and only ever sees a `Sink`.

/// Where rendered files go: a staging folder on disk, or memory under `lotse serve`.
pub trait Sink: Sync {
    /// Stores `bytes` at `path`, relative to the site root, with `/` separators.
    fn put(&self, path: &str, bytes: &[u8]) -> std::io::Result<()>;

    /// Stores the file at `source` (a previous build's, on disk) at `path` without
    /// copying its bytes, where the sink can (a hard link); `false` where it cannot,
    /// and the caller copies.
    fn link(&self, _path: &str, _source: &std::path::Path) -> bool {
        false
    }

    /// Stores the file at `source` at `path`: linked where the sink can, else copied.
    fn put_file(&self, path: &str, source: &std::path::Path) -> std::io::Result<()> {
        if self.link(path, source) {
            return Ok(());
        }
        self.put(path, &std::fs::read(source)?)
    }
}

/// What a render produced.
#[derive(Debug, Default, Clone)]
pub struct RenderStats {
    /// Pages rendered this time.
    pub pages: usize,
    /// Pages taken unchanged from the previous build instead (`render::Reuse`).
    pub reused: usize,
    /// Files written this time, pages included.
    pub files: usize,
    /// Every path of the complete site, rendered this time or not.
    pub paths: Vec<String>,
    /// (path, stamp) of every page, for the next build's reuse; empty without reuse.
    pub stamps: Vec<(String, String)>,
}
