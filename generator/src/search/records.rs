//! The records Pagefind indexes: small synthetic HTML documents built from the resolved
//! site, not scraped from the rendered pages, so the templates carry no
//! `data-pagefind-*` attributes and keywords get a weight of their own.

use std::collections::{BTreeMap, BTreeSet};

use lotse_model::Office;

use crate::render::Bodies;
use crate::resolve::{PortalSite, ResolvedService, Site};

/// One record: the page a hit leads to, the HTML whose text is indexed, and the
/// filters and metadata the result list uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Where a hit leads; for a catalogue entry that several portals offer, the
    /// umbrella's search page (search.js then links each portal's page, `portale`).
    pub url: String,
    /// The searchable part: title (h1), keywords (weighted), summary, body, details.
    pub html: String,
    pub filters: Vec<(&'static str, String)>,
    pub meta: Vec<(&'static str, String)>,
}

impl Record {
    /// The record as one HTML document with Pagefind's attributes, as Pagefind's own
    /// indexer reads it (the reference the index writer is tested against).
    pub fn pagefind_html(&self) -> String {
        let mut html = format!(
            "<html lang=\"de\"><body>{}<div data-pagefind-ignore>",
            self.html
        );
        for (key, value) in &self.filters {
            html.push_str(&format!(
                "<span data-pagefind-filter=\"{key}\">{}</span>",
                escape(value)
            ));
        }
        for (key, value) in &self.meta {
            html.push_str(&format!(
                "<span data-pagefind-meta=\"{key}\">{}</span>",
                escape(value)
            ));
        }
        html.push_str("</div></body></html>");
        html
    }
}

/// The records of one portal's index: every service page it lists (its own, the
/// regional ones it offers, and the state and federal services it links), and every
/// office those services name, linked to the service's "Zuständige Stelle".
pub(crate) fn portal_records(site: &Site, ps: &PortalSite, bodies: &Bodies) -> Vec<Record> {
    let portal = &ps.portal;
    let mut out = Vec::with_capacity(ps.services.len() + portal.offices.len());
    let mut offices_done = BTreeSet::new();
    for s in &ps.services {
        let svc = &s.service;
        let url = format!("/{}/{}/", portal.slug, svc.slug);
        let office = svc.office.as_deref().and_then(|id| portal.office(id));
        let mut h = Html::new(&svc.title);
        h.keywords(&svc.title, &svc.keywords);
        h.text("p", &svc.summary);
        if s.body.is_some() {
            h.raw(bodies.get(&s.body));
        }
        for item in svc.documents.iter().chain(&svc.fees).chain(&svc.deadlines) {
            h.text("p", item);
        }
        if let Some(o) = office {
            h.text("p", &o.name);
        }
        h.attr("data-pagefind-filter", "anbieter", svc.provider.as_str());
        h.attr("data-pagefind-filter", "typ", "leistung");
        for title in category_titles(site, s) {
            h.attr("data-pagefind-filter", "thema", title);
        }
        h.attr("data-pagefind-meta", "summary", &svc.summary);
        h.attr("data-pagefind-meta", "anbieter", svc.provider.as_str());
        h.attr("data-pagefind-meta", "ziel", &url);
        out.push(h.finish(url.clone()));

        if let Some(o) = office {
            if offices_done.insert(o.id.clone()) {
                out.push(office_record(o, &format!("{url}#s-stelle"), None));
            }
        }
    }
    out
}

/// How many records [`portal_records`] makes for `ps`, without making them: one per
/// service and one per office a service names.
pub(crate) fn portal_record_count(ps: &PortalSite) -> usize {
    let offices: BTreeSet<&str> = ps
        .services
        .iter()
        .filter_map(|s| s.service.office.as_deref())
        .filter(|id| ps.portal.office(id).is_some())
        .collect();
    ps.services.len() + offices.len()
}

/// The records of the umbrella's index: the region's catalogue. A service that several
/// portals offer under the same slug and title (a regional service, a state or federal
/// one, or the same local service in several cities) is one record listing those
/// portals (`portale`); the umbrella's search page links each of them. Only title,
/// keywords and summary are indexed: the full texts differ per city and are searched
/// in the city's own index once a city is chosen.
pub(crate) fn catalogue_records(site: &Site) -> Vec<Record> {
    struct Entry<'a> {
        service: &'a ResolvedService,
        portals: Vec<&'a str>,
    }
    let mut entries: BTreeMap<(&str, &str), Entry> = BTreeMap::new();
    let mut out = Vec::new();
    for ps in &site.portals {
        let mut offices_done = BTreeSet::new();
        for s in &ps.services {
            let key = (s.service.slug.as_str(), s.service.title.as_str());
            entries
                .entry(key)
                .or_insert_with(|| Entry {
                    service: s,
                    portals: Vec::new(),
                })
                .portals
                .push(&ps.portal.slug);
            let office = s
                .service
                .office
                .as_deref()
                .and_then(|id| ps.portal.office(id));
            if let Some(o) = office {
                if offices_done.insert(o.id.as_str()) {
                    let url = format!("/{}/{}/#s-stelle", ps.portal.slug, s.service.slug);
                    out.push(office_record(o, &url, Some(&ps.portal.slug)));
                }
            }
        }
    }
    for ((slug, _), entry) in entries {
        let svc = &entry.service.service;
        let mut h = Html::new(&svc.title);
        h.keywords(&svc.title, &svc.keywords);
        h.text("p", &svc.summary);
        h.attr("data-pagefind-filter", "anbieter", svc.provider.as_str());
        h.attr("data-pagefind-filter", "typ", "leistung");
        for title in category_titles(site, entry.service) {
            h.attr("data-pagefind-filter", "thema", title);
        }
        h.attr("data-pagefind-meta", "summary", &svc.summary);
        h.attr("data-pagefind-meta", "anbieter", svc.provider.as_str());
        h.attr("data-pagefind-meta", "portale", &entry.portals.join(" "));
        h.attr("data-pagefind-meta", "leistung", slug);
        let url = match entry.portals.as_slice() {
            [only] => {
                let url = format!("/{only}/{slug}/");
                h.attr("data-pagefind-meta", "ziel", &url);
                url
            }
            _ => "/suche/".to_string(),
        };
        out.push(h.finish(url));
    }
    out
}

fn office_record(o: &Office, url: &str, portal: Option<&str>) -> Record {
    let mut h = Html::new(&o.name);
    let folded = fold_umlauts(&o.name);
    if folded != o.name {
        h.text("p", &folded);
    }
    for line in o
        .address
        .iter()
        .chain(&o.phone)
        .chain(&o.email)
        .chain(&o.hours)
    {
        h.text("p", line);
    }
    let contact = [o.address.as_deref(), o.phone.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    h.attr("data-pagefind-filter", "anbieter", "kommune");
    h.attr("data-pagefind-filter", "typ", "kontakt");
    h.attr("data-pagefind-meta", "summary", &contact);
    h.attr("data-pagefind-meta", "anbieter", "kontakt");
    if let Some(portal) = portal {
        h.attr("data-pagefind-meta", "portale", portal);
    }
    h.attr("data-pagefind-meta", "ziel", url);
    h.finish(url.to_string())
}

fn category_titles<'a>(site: &'a Site, s: &'a ResolvedService) -> impl Iterator<Item = &'a str> {
    s.service.categories.iter().filter_map(|id| {
        site.categories
            .iter()
            .find(|c| &c.id == id)
            .map(|c| c.title.as_str())
    })
}

/// Builds one record: the searchable HTML, the filters and the metadata.
struct Html {
    text: String,
    filters: Vec<(&'static str, String)>,
    meta: Vec<(&'static str, String)>,
}

impl Html {
    fn new(title: &str) -> Html {
        let mut h = Html {
            text: String::with_capacity(2048),
            filters: Vec::with_capacity(4),
            meta: Vec::with_capacity(6),
        };
        h.text("h1", title);
        h.attr("data-pagefind-meta", "title", title);
        h
    }

    /// Keywords are synonyms ("Hundesteuer" for "Hund anmelden"): weighted almost like
    /// the title (an h1 has Pagefind's default 7). The folded spellings (ue for ü) go
    /// along so that a query typed without umlauts still finds the page.
    fn keywords(&mut self, title: &str, keywords: &[String]) {
        let mut words: Vec<String> = keywords.to_vec();
        for text in std::iter::once(title).chain(keywords.iter().map(String::as_str)) {
            let folded = fold_umlauts(text);
            if folded != text {
                words.push(folded);
            }
        }
        if !words.is_empty() {
            self.text.push_str("<p data-pagefind-weight=\"6\">");
            self.text.push_str(&escape(&words.join(" · ")));
            self.text.push_str("</p>");
        }
    }

    fn text(&mut self, tag: &str, text: &str) {
        self.text
            .push_str(&format!("<{tag}>{}</{tag}>", escape(text)));
    }

    /// Trusted HTML: the sanitised output of the Markdown renderer.
    fn raw(&mut self, html: &str) {
        self.text.push_str("<div>");
        self.text.push_str(html);
        self.text.push_str("</div>");
    }

    /// A filter (`data-pagefind-filter`) or a metadata field (`data-pagefind-meta`);
    /// values may contain commas and colons.
    fn attr(&mut self, attr: &str, key: &'static str, value: &str) {
        let list = if attr == "data-pagefind-filter" {
            &mut self.filters
        } else {
            &mut self.meta
        };
        list.push((key, value.to_string()));
    }

    fn finish(self, url: String) -> Record {
        Record {
            url,
            html: self.text,
            filters: self.filters,
            meta: self.meta,
        }
    }
}

/// ä -> ae, ö -> oe, ü -> ue, ß -> ss: how people type German without umlauts.
pub fn fold_umlauts(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_umlauts() {
        assert_eq!(fold_umlauts("Führungszeugnis"), "Fuehrungszeugnis");
        assert_eq!(fold_umlauts("Straße Ärger"), "Strasse Aerger");
    }

    #[test]
    fn escapes_record_text() {
        let mut h = Html::new("A <b> & \"c\"");
        h.attr("data-pagefind-meta", "ziel", "/x/");
        let r = h.finish("/x/".into());
        assert!(r.html.contains("<h1>A &lt;b&gt; &amp; &quot;c&quot;</h1>"));
        assert!(r.pagefind_html().ends_with(
            "<div data-pagefind-ignore><span data-pagefind-meta=\"title\">A &lt;b&gt; &amp; &quot;c&quot;</span>\
             <span data-pagefind-meta=\"ziel\">/x/</span></div></body></html>"
        ));
    }
}
