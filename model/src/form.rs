//! Online application forms: the field definitions editors write in `[[form.fields]]`,
//! and the schema the generator publishes for the functions to validate against.

use serde::{Deserialize, Serialize};

use crate::service::TrustLevel;

/// The kinds of input a form field can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Textarea,
    Email,
    Tel,
    Date,
    Number,
    Select,
    Radio,
    Checkbox,
    Postcode,
    Iban,
}

impl FieldType {
    pub const ALL: [FieldType; 11] = [
        FieldType::Text,
        FieldType::Textarea,
        FieldType::Email,
        FieldType::Tel,
        FieldType::Date,
        FieldType::Number,
        FieldType::Select,
        FieldType::Radio,
        FieldType::Checkbox,
        FieldType::Postcode,
        FieldType::Iban,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Textarea => "textarea",
            FieldType::Email => "email",
            FieldType::Tel => "tel",
            FieldType::Date => "date",
            FieldType::Number => "number",
            FieldType::Select => "select",
            FieldType::Radio => "radio",
            FieldType::Checkbox => "checkbox",
            FieldType::Postcode => "postcode",
            FieldType::Iban => "iban",
        }
    }

    pub fn parse(s: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The `type` attribute of the `<input>` that renders this field.
    pub fn html_input_type(self) -> &'static str {
        match self {
            FieldType::Email => "email",
            FieldType::Tel => "tel",
            FieldType::Date => "date",
            FieldType::Number => "number",
            FieldType::Checkbox => "checkbox",
            FieldType::Radio => "radio",
            FieldType::Text
            | FieldType::Textarea
            | FieldType::Select
            | FieldType::Postcode
            | FieldType::Iban => "text",
        }
    }

    /// True for types whose value is one of `options`.
    pub fn has_options(self) -> bool {
        matches!(self, FieldType::Select | FieldType::Radio)
    }

    /// True for types that accept free text and so take a `max_length`.
    pub fn is_free_text(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::Textarea | FieldType::Email | FieldType::Tel
        )
    }

    /// The length limit when the editor sets none: generous, but bounded so that one
    /// field cannot fill the request body.
    pub fn default_max_length(self) -> u32 {
        match self {
            FieldType::Textarea => 5000,
            FieldType::Email => 254,
            FieldType::Tel => 40,
            FieldType::Postcode => 5,
            FieldType::Iban => 42,
            FieldType::Date => 10,
            _ => 200,
        }
    }
}

/// One field of an online application.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub id: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    /// A claim of the logged-in citizen to fill in (see [`PREFILL_CLAIMS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<String>,
}

/// The name of the optional e-mail address for notifications every online form offers
/// (not part of any form schema; `_` and letters outside slugs keep it apart from
/// schema field ids, which are slugs).
pub const NOTIFY_FIELD: &str = "notify_email";

/// The field of [`NOTIFY_FIELD`], rendered like any other field by the theme
/// (`form_field(field="notify_email")`) and by the functions' form with errors.
pub fn notify_field() -> FormField {
    FormField {
        help: Some("Freiwillig. Wir schreiben Ihnen nur, dass es eine neue Nachricht der Behörde zu Ihrem Antrag gibt, nie ihren Inhalt. Ist der Antrag abgeschlossen, löschen wir die Adresse.".into()),
        autocomplete: Some("email".into()),
        ..FormField::new(NOTIFY_FIELD, "E-Mail-Adresse für Benachrichtigungen", FieldType::Email)
    }
}

impl FormField {
    /// A field with nothing but its id, label and kind set: optional, no limits.
    pub fn new(id: &str, label: &str, kind: FieldType) -> FormField {
        FormField {
            id: id.to_string(),
            label: label.to_string(),
            kind,
            required: false,
            options: Vec::new(),
            min: None,
            max: None,
            max_length: None,
            help: None,
            autocomplete: None,
            prefill: None,
        }
    }
}

/// What a field can be prefilled with after a BundID login.
pub const PREFILL_CLAIMS: [&str; 7] = [
    "given_name",
    "family_name",
    "name",
    "email",
    "street_address",
    "postal_code",
    "locality",
];

impl FormField {
    pub fn effective_max_length(&self) -> u32 {
        self.max_length
            .unwrap_or_else(|| self.kind.default_max_length())
    }

    /// The HTML `autocomplete` token: the editor's choice, else one derived from the
    /// type and the id (WCAG 1.3.5 asks for it on fields about the user).
    pub fn autocomplete_token(&self) -> Option<&str> {
        if let Some(token) = self.autocomplete.as_deref() {
            return Some(token);
        }
        let by_type = match self.kind {
            FieldType::Email => Some("email"),
            FieldType::Tel => Some("tel"),
            FieldType::Postcode => Some("postal-code"),
            FieldType::Iban => Some("off"),
            _ => None,
        };
        by_type.or(match self.id.as_str() {
            "name" | "full_name" | "vollstaendiger_name" => Some("name"),
            "vorname" | "given_name" | "first_name" => Some("given-name"),
            "nachname" | "family_name" | "last_name" => Some("family-name"),
            "strasse" | "street" | "anschrift" | "address" => Some("street-address"),
            "ort" | "city" | "wohnort" => Some("address-level2"),
            "geburtsdatum" | "birthday" | "birth_date" => Some("bday"),
            _ => None,
        })
    }
}

/// An online application form as written under `[form]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Form {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    pub fields: Vec<FormField>,
}

/// Everything the functions need to accept an application for one service in one
/// portal. The generator writes it to `dist/forms/<portal>/<service>.json`; the functions
/// read the same type back, so the page and the validator cannot disagree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormSchema {
    pub portal: String,
    pub service: String,
    pub title: String,
    pub office: String,
    /// The office's X25519 public key (base64) that applications are encrypted to.
    pub public_key: String,
    pub login: TrustLevel,
    pub fields: Vec<FormField>,
    /// The fee paid online at the end (`[payment]` of the service), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<crate::payment::Fee>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types_round_trip_through_their_names() {
        for t in FieldType::ALL {
            assert_eq!(FieldType::parse(t.as_str()), Some(t));
        }
        assert_eq!(FieldType::parse("dropdown"), None);
    }

    #[test]
    fn autocomplete_comes_from_type_then_id_then_editor() {
        let mut field = FormField::new("vorname", "Vorname", FieldType::Text);
        assert_eq!(field.autocomplete_token(), Some("given-name"));
        field.kind = FieldType::Email;
        assert_eq!(field.autocomplete_token(), Some("email"));
        field.autocomplete = Some("off".into());
        assert_eq!(field.autocomplete_token(), Some("off"));
    }

    #[test]
    fn schema_json_round_trips() {
        let schema = FormSchema {
            portal: "bottrop".into(),
            service: "hund-anmelden".into(),
            title: "Hund anmelden".into(),
            office: "steueramt".into(),
            public_key: "AAAA".into(),
            login: TrustLevel::Low,
            fields: vec![FormField {
                required: true,
                options: vec!["Mischling".into()],
                ..FormField::new("rasse", "Rasse", FieldType::Select)
            }],
            fee: None,
        };
        let json = serde_json::to_string(&schema).unwrap();
        assert!(json.contains(r#""type":"select""#));
        assert!(json.contains(r#""login":"low""#));
        let back: FormSchema = serde_json::from_str(&json).unwrap();
        assert_eq!(back, schema);
    }
}
