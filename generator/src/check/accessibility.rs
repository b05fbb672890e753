//! BITV 2.0 § 4: every portal (and the umbrella) explains itself in Deutsche
//! Gebärdensprache. The generated default page has no video, so until the content
//! gives one (`video` in `pages/gebaerdensprache.md`) `lotse check` warns.

use std::path::Path;

use crate::default_pages::GEBAERDENSPRACHE;
use crate::diagnostics::{Diagnostics, Loc};
use crate::load::{display, PageDraft};

use super::Input;

pub(super) fn check(input: &Input<'_>, diags: &Diagnostics) {
    let root = &input.content.root;
    check_pages(
        "the umbrella site",
        &input.content.pages,
        Loc::file_start(&display(&root.join("region.toml"))),
        root,
        diags,
    );
    for portal in &input.portals {
        check_pages(
            &format!("portal `{}`", portal.loaded.config.portal.slug),
            &portal.loaded.pages,
            portal.loaded.loc.clone(),
            &portal.loaded.dir,
            diags,
        );
    }
}

/// `owner` names the portal; `fallback` is where to report when there is no page file.
fn check_pages(owner: &str, pages: &[PageDraft], fallback: Loc, dir: &Path, diags: &Diagnostics) {
    let page = pages.iter().find(|p| p.slug == GEBAERDENSPRACHE);
    if page.is_some_and(|p| p.video.is_some()) {
        return;
    }
    let file = display(&dir.join("pages").join(format!("{GEBAERDENSPRACHE}.md")));
    let at = page.map_or(fallback, |p| p.loc.clone());
    diags.warning(
        at,
        format!(
            "{owner} has no video in Deutsche Gebärdensprache, which BITV 2.0 § 4 asks for: add `video = \"…\"` (a file next to the page, or an https address) to {file}"
        ),
    );
}
