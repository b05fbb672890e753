//! Pages every portal must have by BITV 2.0: information in Leichte Sprache and in
//! Deutsche Gebärdensprache, linked from the start page (§ 4), and the accessibility
//! statement (§ 7). When the content has no page of that name, a default in plain
//! German is generated; a page in `pages/leichte-sprache.md`,
//! `pages/gebaerdensprache.md` or `pages/barrierefreiheit.md` replaces it.

use std::fmt::Write as _;
use std::sync::Arc;

use lotse_model::Office;

use crate::resolve::Page;

pub const LEICHTE_SPRACHE: &str = "leichte-sprache";
pub const GEBAERDENSPRACHE: &str = "gebaerdensprache";
pub const BARRIEREFREIHEIT: &str = crate::feedback::STATEMENT;

/// Adds the default pages a portal (or the umbrella) lacks. `taken` tells whether a
/// slug is already used by something else (a service), in which case no default is made.
pub fn add_missing(
    pages: &mut Vec<Page>,
    owner: &str,
    contact: Option<&Office>,
    taken: impl Fn(&str) -> bool,
) {
    let has = |pages: &[Page], slug: &str| pages.iter().any(|p| p.slug == slug);
    if !has(pages, LEICHTE_SPRACHE) && !taken(LEICHTE_SPRACHE) {
        pages.push(Page {
            slug: LEICHTE_SPRACHE.into(),
            title: "Leichte Sprache".into(),
            description: Some(format!("Informationen in Leichter Sprache: {owner}")),
            weight: 100,
            body: Arc::from(leichte_sprache(owner, contact)),
            form: None,
            video: None,
        });
    }
    if !has(pages, GEBAERDENSPRACHE) && !taken(GEBAERDENSPRACHE) {
        pages.push(Page {
            slug: GEBAERDENSPRACHE.into(),
            title: "Gebärdensprache".into(),
            description: Some(format!(
                "Informationen in Deutscher Gebärdensprache: {owner}"
            )),
            weight: 101,
            body: Arc::from(gebaerdensprache(owner, contact)),
            form: None,
            video: None,
        });
    }
    if !has(pages, BARRIEREFREIHEIT) && !taken(BARRIEREFREIHEIT) {
        pages.push(Page {
            slug: BARRIEREFREIHEIT.into(),
            title: "Erklärung zur Barrierefreiheit".into(),
            description: Some(format!(
                "Stand der Barrierefreiheit und wie Sie Barrieren melden: {owner}"
            )),
            weight: 102,
            body: Arc::from(barrierefreiheit(owner, contact)),
            form: None,
            video: None,
        });
    }
}

fn contact_lines(contact: Option<&Office>) -> String {
    let mut out = String::new();
    if let Some(office) = contact {
        let _ = writeln!(out, "**{}**\n", office.name);
        if let Some(phone) = &office.phone {
            let _ = writeln!(out, "- Telefon: {phone}");
        }
        if let Some(email) = &office.email {
            let _ = writeln!(out, "- E-Mail: <{email}>");
        }
        if let Some(address) = &office.address {
            let _ = writeln!(out, "- Adresse: {address}");
        }
    }
    out
}

fn leichte_sprache(owner: &str, contact: Option<&Office>) -> String {
    format!(
        "## Willkommen\n\n\
Das ist die Internet-Seite: {owner}.\n\
Hier finden Sie Dienst-Leistungen von der Verwaltung.\n\n\
Dienst-Leistungen sind zum Beispiel:\n\n\
- einen Ausweis beantragen\n\
- einen Hund anmelden\n\
- eine neue Wohnung anmelden\n\n\
## So finden Sie eine Dienst-Leistung\n\n\
Oben auf jeder Seite ist ein Such-Feld.\n\
Dort schreiben Sie ein Wort.\n\
Zum Beispiel: Ausweis.\n\n\
Sie können auch bei **Leistungen A–Z** schauen.\n\
Dort stehen alle Dienst-Leistungen nach dem Alphabet.\n\n\
## Einen Antrag stellen\n\n\
Manche Anträge können Sie im Internet stellen.\n\
Dann gibt es auf der Seite ein Formular.\n\
Sie schreiben Ihre Angaben in das Formular.\n\
Dann drücken Sie auf **Antrag absenden**.\n\n\
Danach bekommen Sie eine Vorgangs-Nummer und einen Schlüssel.\n\
Bitte schreiben Sie beides auf.\n\
Damit können Sie später nachsehen: So weit ist Ihr Antrag.\n\n\
## Sie brauchen Hilfe?\n\n\
Rufen Sie uns an.\n\
Oder schreiben Sie uns eine E-Mail.\n\
Wir helfen Ihnen gerne.\n\n{}",
        contact_lines(contact)
    )
}

fn barrierefreiheit(owner: &str, contact: Option<&Office>) -> String {
    format!(
        "Dieses Portal ({owner}) soll für alle Menschen ohne Barrieren nutzbar sein. \
Maßgeblich sind das Behindertengleichstellungsgesetz Nordrhein-Westfalen (BGG NRW), die \
Barrierefreie-Informationstechnik-Verordnung NRW und damit die Anforderungen der BITV 2.0 \
und der europäischen Norm EN 301 549 (WCAG 2.1, Stufe AA).\n\n\
## Stand der Vereinbarkeit\n\n\
Das Portal ist weitgehend mit den Anforderungen vereinbar. Alle Seiten und Formulare \
funktionieren ohne JavaScript und vollständig mit der Tastatur. Jede Seitenart wird vor \
der Veröffentlichung automatisch auf die Erfolgskriterien der WCAG 2.1 A und AA geprüft.\n\n\
## Nicht barrierefreie Inhalte\n\n\
- Verlinkte Dokumente anderer Stellen, zum Beispiel im PDF-Format, sind nicht immer \
barrierefrei.\n\
- Für verlinkte Online-Dienste des Landes, des Bundes und anderer Anbieter sind diese \
Anbieter verantwortlich.\n\n\
## Barrieren melden\n\n\
Ist Ihnen eine Barriere aufgefallen, oder brauchen Sie Inhalte in einer anderen Form? \
Nutzen Sie das Formular auf dieser Seite oder wenden Sie sich an uns. Wir antworten \
spätestens innerhalb von sechs Wochen.\n\n{}\n\
## Ombudsverfahren\n\n\
Haben Sie keine zufriedenstellende Antwort erhalten, können Sie sich an die \
Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen \
wenden (§ 10d BGG NRW). Das Verfahren ist kostenlos.\n",
        contact_lines(contact)
    )
}

fn gebaerdensprache(owner: &str, contact: Option<&Office>) -> String {
    format!(
        "Auf dieser Seite informieren wir gehörlose und hörbehinderte Menschen über das \
Angebot: {owner}.\n\n\
## Was Sie hier finden\n\n\
Auf diesen Seiten finden Sie Verwaltungsleistungen: was Sie für einen Antrag brauchen, \
was er kostet und welche Stelle zuständig ist. Viele Anträge können Sie direkt online \
stellen, ohne Telefonat und ohne Termin.\n\n\
## So erreichen Sie uns\n\n\
Schreiben Sie uns am besten eine E-Mail. Für Gespräche mit Dolmetscherin oder \
Dolmetscher können Sie den Tess-Relay-Dienst für Gebärdensprache und Schriftsprache \
nutzen. Wenn Sie zu einem Termin eine Gebärdensprachdolmetscherin oder einen \
Gebärdensprachdolmetscher brauchen, sagen Sie uns bitte vorher Bescheid.\n\n{}\n\
## Videos in Deutscher Gebärdensprache\n\n\
Videos, die unser Angebot in Deutscher Gebärdensprache erklären, werden auf dieser Seite \
veröffentlicht, sobald sie vorliegen.\n",
        contact_lines(contact)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_pages_unless_content_or_a_service_has_them() {
        let mut pages = Vec::new();
        add_missing(&mut pages, "Stadt Musterstadt", None, |_| false);
        let slugs: Vec<&str> = pages.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, [LEICHTE_SPRACHE, GEBAERDENSPRACHE, BARRIEREFREIHEIT]);
        assert!(pages[0]
            .body
            .contains("Das ist die Internet-Seite: Stadt Musterstadt."));

        let before = pages.len();
        add_missing(&mut pages, "Stadt Musterstadt", None, |_| false);
        assert_eq!(
            pages.len(),
            before,
            "existing pages are kept, not duplicated"
        );

        let mut pages = Vec::new();
        add_missing(&mut pages, "X", None, |slug| slug == GEBAERDENSPRACHE);
        assert_eq!(pages.len(), 2);
    }
}
