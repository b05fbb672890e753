//! Aliases (earlier addresses of a service): a small redirect page at each, which works
//! on any static host and under `lotse serve`, and `_redirects`, from which Cloudflare
//! answers them with a real 301 before any page is served.

use std::fmt::Write as _;

use anyhow::Result;
use lotse_model::Portal;

use crate::resolve::Site;
use crate::theme::escape_html;

/// Writes every alias page and `_redirects` through `put`. `canonical` gives the
/// absolute address of a page (`bottrop/neuer-name/index.html`) of a portal.
pub fn put_all(
    site: &Site,
    canonical: &dyn Fn(&Portal, &str) -> String,
    put: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut lines: Vec<(String, String)> = Vec::new();
    for ps in &site.portals {
        for s in &ps.services {
            let target = format!("/{}/{}/", ps.portal.slug, s.service.slug);
            let url = canonical(&ps.portal, &format!("{}index.html", &target[1..]));
            for alias in &s.service.aliases {
                let html = page(&s.service.title, &target, &url);
                put(&format!("{}index.html", &alias[1..]), html.as_bytes())?;
                lines.push((alias.clone(), target.clone()));
            }
        }
    }
    lines.sort();
    put("_redirects", redirects_file(&lines).as_bytes())
}

/// Cloudflare's `_redirects`: one `source destination 301` line per alias.
pub fn redirects_file(lines: &[(String, String)]) -> String {
    let mut out = String::from("# Earlier addresses of services (`aliases`), written by lotse.\n");
    for (from, to) in lines {
        let _ = writeln!(out, "{from} {to} 301");
    }
    out
}

/// The page at an alias: refreshes at once to `target`, names it as canonical, and
/// shows a link for browsers that do not follow the refresh.
pub fn page(title: &str, target: &str, canonical: &str) -> String {
    let (title, target, canonical) = (
        escape_html(title),
        escape_html(target),
        escape_html(canonical),
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>Diese Seite ist umgezogen: {title}</title>\n\
<meta name=\"robots\" content=\"noindex\">\n\
<meta http-equiv=\"refresh\" content=\"0; url={target}\">\n\
<link rel=\"canonical\" href=\"{canonical}\">\n</head>\n<body>\n<main>\n\
<p>Diese Seite ist umgezogen: <a href=\"{target}\">{title}</a></p>\n</main>\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_page_refreshes_and_names_the_canonical_address() {
        let html = page("Hund & Katze", "/a/neu/", "https://x.de/a/neu/");
        assert!(html.contains("content=\"0; url=/a/neu/\""), "{html}");
        assert!(html.contains("<link rel=\"canonical\" href=\"https://x.de/a/neu/\">"));
        assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
        assert!(html.contains("Diese Seite ist umgezogen: <a href="));
        assert!(html.contains("Hund &amp; Katze"));
        let file = redirects_file(&[("/a/alt/".into(), "/a/neu/".into())]);
        assert!(file.ends_with("\n/a/alt/ /a/neu/ 301\n"), "{file}");
    }
}
