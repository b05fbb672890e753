//! The accessibility statement's feedback form (BITV 2.0 § 7: a feedback channel). Every
//! portal's page `barrierefreiheit` (from content, or the generated default) carries a
//! form that is submitted like an application: validated by the functions, encrypted
//! to the office named by `feedback_office` in portal.toml (by default the
//! Bürgerbüro, else the first office that can receive applications), and listed in
//! that office's inbox.

use lotse_model::{FieldType, Form, FormField, Portal};

use crate::resolve::{Page, PageForm};

/// Slug of the accessibility statement, the page that carries the form.
pub const STATEMENT: &str = "barrierefreiheit";

/// What the form is called on receipts and in the office's inbox.
pub const TITLE: &str = "Rückmeldung zur Barrierefreiheit";

/// The office feedback goes to: the configured one, or a sensible default.
pub fn office(portal: &Portal) -> Option<&lotse_model::Office> {
    let can_receive = |o: &&lotse_model::Office| o.public_key.is_some();
    match &portal.feedback_office {
        Some(id) => portal.office(id).filter(can_receive),
        None => portal
            .office("buergerbuero")
            .filter(can_receive)
            .or_else(|| portal.offices.iter().find(can_receive)),
    }
}

/// Attaches the form sending feedback to `portal` to the statement among `pages` (the
/// portal's own, or the umbrella's), if there is one and some office can receive it.
pub fn attach(pages: &mut [Page], portal: &Portal) {
    let Some(office) = office(portal) else {
        return;
    };
    if let Some(page) = pages.iter_mut().find(|p| p.slug == STATEMENT) {
        page.form = Some(PageForm {
            title: TITLE.to_string(),
            portal: portal.slug.clone(),
            office: office.id.clone(),
            form: form(),
        });
    }
}

fn form() -> Form {
    let mut page = FormField::new(
        "seite",
        "Auf welcher Seite ist die Barriere?",
        FieldType::Text,
    );
    page.help = Some("Die Adresse oder der Titel der Seite, wenn Sie ihn wissen.".into());
    page.max_length = Some(300);
    let mut problem = FormField::new("beschreibung", "Was ist das Problem?", FieldType::Textarea);
    problem.required = true;
    problem.help = Some(
        "Beschreiben Sie, was nicht funktioniert oder was Sie in anderer Form brauchen.".into(),
    );
    problem.max_length = Some(4000);
    let mut name = FormField::new("name", "Ihr Name", FieldType::Text);
    name.max_length = Some(200);
    let mut email = FormField::new("email", "Ihre E-Mail-Adresse", FieldType::Email);
    email.help = Some("Nur nötig, wenn Sie eine Antwort möchten.".into());
    Form {
        intro: Some(
            "Melden Sie uns Barrieren über dieses Formular. Ihre Angaben gehen verschlüsselt an die zuständige Stelle."
                .into(),
        ),
        fields: vec![page, problem, name, email],
    }
}

#[cfg(test)]
mod tests {
    use lotse_model::Office;

    use super::*;

    fn office(id: &str, key: bool) -> Office {
        Office {
            id: id.into(),
            name: id.into(),
            public_key: key.then(|| "k".into()),
            ..Office::default()
        }
    }

    #[test]
    fn goes_to_the_configured_office_else_a_sensible_default() {
        let mut portal = Portal {
            offices: vec![
                office("ohne-schluessel", false),
                office("standesamt", true),
                office("buergerbuero", true),
            ],
            ..Portal::default()
        };
        assert_eq!(super::office(&portal).unwrap().id, "buergerbuero");
        portal.feedback_office = Some("standesamt".into());
        assert_eq!(super::office(&portal).unwrap().id, "standesamt");
        portal.feedback_office = None;
        portal.offices.remove(2);
        assert_eq!(super::office(&portal).unwrap().id, "standesamt");
        portal.offices.remove(1);
        assert!(super::office(&portal).is_none(), "no office can decrypt");
    }

    #[test]
    fn only_the_statement_gets_the_form() {
        let portal = Portal {
            offices: vec![office("buergerbuero", true)],
            ..Portal::default()
        };
        let page = |slug: &str| Page {
            slug: slug.into(),
            title: slug.into(),
            description: None,
            weight: 0,
            body: "".into(),
            form: None,
            video: None,
        };
        let mut pages = vec![page("impressum"), page(STATEMENT)];
        attach(&mut pages, &portal);
        assert!(pages[0].form.is_none());
        let form = pages[1].form.as_ref().expect("the statement has the form");
        assert_eq!(form.office, "buergerbuero");
        assert!(form
            .form
            .fields
            .iter()
            .any(|f| f.id == "beschreibung" && f.required));
    }
}
