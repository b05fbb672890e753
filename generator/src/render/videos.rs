//! Video files of pages (the Gebärdensprache video), copied into the page's folder.

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::resolve::{Page, Site, Video};

/// Copies every page's video file through `put`, next to the page's `index.html`.
pub fn put_all(site: &Site, put: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()> {
    let umbrella = site.pages.iter().map(|p| (String::new(), p));
    let portals = site.portals.iter().flat_map(|ps| {
        ps.pages
            .iter()
            .map(move |p| (format!("{}/", ps.portal.slug), p))
    });
    for (prefix, page) in umbrella.chain(portals) {
        if let Some(Video::File { source, name }) = &page.video {
            let bytes = std::fs::read(source)
                .with_context(|| format!("cannot read video {}", source.display()))?;
            put(&format!("{prefix}{}/{name}", page.slug), &bytes)?;
        }
    }
    Ok(())
}

/// A page's video for page.html: `url` (relative to the page for a file) and `file`
/// (shown in `<video>`; else linked).
#[derive(Serialize)]
pub struct VideoCtx<'a> {
    pub url: &'a str,
    pub file: bool,
}

pub fn context(page: &Page) -> Option<VideoCtx<'_>> {
    match page.video.as_ref()? {
        Video::File { name, .. } => Some(VideoCtx {
            url: name,
            file: true,
        }),
        Video::Link(url) => Some(VideoCtx { url, file: false }),
    }
}
