//! Validation of submitted applications against a form schema. The same code runs on
//! the edge (WebAssembly) and under `lotse serve`; messages are German, one per field,
//! ready to show next to the field and in the error summary.

use std::collections::BTreeMap;

use crate::form::{FieldType, FormField};

/// What the citizen sent, one text value per field id. Checkboxes that are not ticked
/// are simply absent, as browsers send them.
pub type Submitted = BTreeMap<String, String>;

/// The validated values, normalised (IBAN without spaces, checkbox as "ja"/"nein").
pub type Accepted = BTreeMap<String, String>;

/// Field id -> message.
pub type FieldErrors = BTreeMap<String, String>;

/// Checks every field of `fields` against `submitted`. Unknown field ids are errors too:
/// a form must not smuggle data past its schema.
pub fn validate(fields: &[FormField], submitted: &Submitted) -> Result<Accepted, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut accepted = Accepted::new();
    for (id, _) in submitted.iter() {
        if !fields.iter().any(|f| &f.id == id) {
            errors.insert(
                id.clone(),
                "Dieses Feld gehört nicht zu diesem Antrag.".into(),
            );
        }
    }
    for field in fields {
        let raw = submitted.get(&field.id).map(|v| v.trim()).unwrap_or("");
        match check_field(field, raw) {
            Ok(Some(value)) => {
                accepted.insert(field.id.clone(), value);
            }
            Ok(None) => {}
            Err(message) => {
                errors.insert(field.id.clone(), message);
            }
        }
    }
    if errors.is_empty() {
        Ok(accepted)
    } else {
        Err(errors)
    }
}

/// `Ok(None)` for an optional field left empty.
fn check_field(field: &FormField, raw: &str) -> Result<Option<String>, String> {
    if field.kind == FieldType::Checkbox {
        return match raw.to_lowercase().as_str() {
            "" | "nein" | "false" | "off" | "0" => {
                if field.required {
                    Err("Bitte setzen Sie hier ein Häkchen, um fortzufahren.".into())
                } else {
                    Ok(Some("nein".into()))
                }
            }
            "ja" | "on" | "true" | "1" => Ok(Some("ja".into())),
            _ => Err("Bitte setzen Sie das Häkchen oder lassen Sie es weg.".into()),
        };
    }
    if raw.is_empty() {
        return if field.required {
            Err("Bitte füllen Sie dieses Pflichtfeld aus.".into())
        } else {
            Ok(None)
        };
    }
    let limit = field.effective_max_length() as usize;
    if raw.chars().count() > limit {
        return Err(format!(
            "Bitte kürzen Sie Ihre Eingabe auf höchstens {limit} Zeichen."
        ));
    }
    let allows_newlines = field.kind == FieldType::Textarea;
    if raw
        .chars()
        .any(|c| c.is_control() && !(allows_newlines && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err("Die Eingabe enthält unzulässige Steuerzeichen.".into());
    }
    let value = match field.kind {
        FieldType::Text | FieldType::Textarea => raw.to_string(),
        FieldType::Email => check_email(raw)?,
        FieldType::Tel => check_phone(raw)?,
        FieldType::Date => check_date(raw)?,
        FieldType::Number => check_number(field, raw)?,
        FieldType::Select | FieldType::Radio => {
            if !field.options.iter().any(|o| o == raw) {
                return Err("Bitte wählen Sie eine der angebotenen Möglichkeiten.".into());
            }
            raw.to_string()
        }
        FieldType::Postcode => {
            if raw.len() != 5 || !raw.bytes().all(|b| b.is_ascii_digit()) {
                return Err(
                    "Bitte geben Sie eine fünfstellige Postleitzahl an, zum Beispiel 46236.".into(),
                );
            }
            raw.to_string()
        }
        FieldType::Iban => check_iban(raw)?,
        FieldType::Checkbox => unreachable!("handled above"),
    };
    Ok(Some(value))
}

fn check_email(raw: &str) -> Result<String, String> {
    let message = || {
        "Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@beispiel.de.".to_string()
    };
    let (local, domain) = raw.rsplit_once('@').ok_or_else(message)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains(char::is_whitespace)
        && !local.contains('@');
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
    if local_ok && domain_ok {
        Ok(raw.to_string())
    } else {
        Err(message())
    }
}

fn check_phone(raw: &str) -> Result<String, String> {
    let allowed = raw
        .chars()
        .all(|c| c.is_ascii_digit() || " +-/()".contains(c));
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    if allowed && (5..=20).contains(&digits) {
        Ok(raw.to_string())
    } else {
        Err("Bitte geben Sie eine gültige Telefonnummer an, zum Beispiel 02041 70-3333.".into())
    }
}

/// ISO 8601 calendar date, as `<input type="date">` sends it.
fn check_date(raw: &str) -> Result<String, String> {
    let message = || "Bitte geben Sie ein gültiges Datum an (Format JJJJ-MM-TT).".to_string();
    let parts: Vec<&str> = raw.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(message());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(message());
    }
    let (Ok(year), Ok(month), Ok(day)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>())
    else {
        return Err(message());
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(message()),
    };
    if year < 1800 || day == 0 || day > days_in_month {
        return Err(message());
    }
    Ok(raw.to_string())
}

fn check_number(field: &FormField, raw: &str) -> Result<String, String> {
    // German users type a decimal comma.
    let normalised = raw.replace(',', ".");
    let value: f64 = normalised
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| "Bitte geben Sie eine Zahl an.".to_string())?;
    if let Some(min) = field.min {
        if value < min {
            return Err(format!(
                "Bitte geben Sie mindestens {} an.",
                format_number(min)
            ));
        }
    }
    if let Some(max) = field.max {
        if value > max {
            return Err(format!(
                "Bitte geben Sie höchstens {} an.",
                format_number(max)
            ));
        }
    }
    Ok(normalised)
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}").replace('.', ",")
    }
}

/// IBAN with the ISO 13616 mod-97 check; spaces are allowed and removed.
fn check_iban(raw: &str) -> Result<String, String> {
    let iban: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let message = || {
        "Die IBAN ist ungültig. Bitte prüfen Sie Ihre Eingabe, zum Beispiel DE89 3704 0044 0532 0130 00.".to_string()
    };
    let well_formed = (15..=34).contains(&iban.len())
        && iban.bytes().all(|b| b.is_ascii_alphanumeric())
        && iban.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic)
        && iban.as_bytes()[2..4].iter().all(u8::is_ascii_digit);
    if !well_formed {
        return Err(message());
    }
    if iban.starts_with("DE") && iban.len() != 22 {
        return Err("Eine deutsche IBAN hat 22 Stellen. Bitte prüfen Sie Ihre Eingabe.".into());
    }
    let rearranged = iban[4..].chars().chain(iban[..4].chars());
    let mut remainder: u32 = 0;
    for c in rearranged {
        let value = c.to_digit(36).ok_or_else(message)?;
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    if remainder == 1 {
        Ok(iban)
    } else {
        Err(message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(id: &str, kind: FieldType, required: bool) -> FormField {
        FormField {
            required,
            ..FormField::new(id, id, kind)
        }
    }

    fn submit(pairs: &[(&str, &str)]) -> Submitted {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn error_for(f: FormField, value: &str) -> Option<String> {
        let id = f.id.clone();
        validate(&[f], &submit(&[(&id, value)]))
            .err()
            .and_then(|mut e| e.remove(&id))
    }

    #[test]
    fn required_and_unknown_fields() {
        let fields = [
            field("name", FieldType::Text, true),
            field("notiz", FieldType::Text, false),
        ];
        let errors = validate(&fields, &submit(&[("extra", "x")])).unwrap_err();
        assert_eq!(errors["name"], "Bitte füllen Sie dieses Pflichtfeld aus.");
        assert_eq!(
            errors["extra"],
            "Dieses Feld gehört nicht zu diesem Antrag."
        );
        assert!(!errors.contains_key("notiz"));
        let ok = validate(&fields, &submit(&[("name", "  Erika Mustermann ")])).unwrap();
        assert_eq!(ok["name"], "Erika Mustermann");
        assert!(!ok.contains_key("notiz"));
    }

    #[test]
    fn email_addresses() {
        assert!(error_for(field("e", FieldType::Email, true), "erika@beispiel.de").is_none());
        assert!(error_for(field("e", FieldType::Email, true), "jürgen@müller.de").is_none());
        for bad in [
            "erika",
            "erika@",
            "@beispiel.de",
            "erika@beispiel",
            "er ika@beispiel.de",
            "erika@-x.de",
        ] {
            assert!(
                error_for(field("e", FieldType::Email, true), bad).is_some(),
                "{bad}"
            );
        }
    }

    #[test]
    fn german_postcodes() {
        assert!(error_for(field("p", FieldType::Postcode, true), "46236").is_none());
        for bad in ["4623", "462366", "4623a", "46 236"] {
            assert!(
                error_for(field("p", FieldType::Postcode, true), bad).is_some(),
                "{bad}"
            );
        }
    }

    #[test]
    fn ibans_with_checksum() {
        let f = || field("iban", FieldType::Iban, true);
        let ok = validate(&[f()], &submit(&[("iban", "de89 3704 0044 0532 0130 00")])).unwrap();
        assert_eq!(ok["iban"], "DE89370400440532013000");
        assert!(error_for(f(), "GB82 WEST 1234 5698 7654 32").is_none());
        assert!(error_for(f(), "DE89 3704 0044 0532 0130 01").is_some());
        assert!(error_for(f(), "DE89 3704 0044 0532 0130").is_some());
        assert!(error_for(f(), "XX").is_some());
    }

    #[test]
    fn iso_dates() {
        let f = || field("d", FieldType::Date, true);
        assert!(error_for(f(), "2024-02-29").is_none());
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "24-01-01",
            "01.02.2024",
            "2024-1-1",
        ] {
            assert!(error_for(f(), bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn number_ranges() {
        let mut f = field("n", FieldType::Number, true);
        f.min = Some(1.0);
        f.max = Some(10.0);
        assert!(error_for(f.clone(), "2,5").is_none());
        assert_eq!(
            error_for(f.clone(), "0").unwrap(),
            "Bitte geben Sie mindestens 1 an."
        );
        assert_eq!(
            error_for(f.clone(), "11").unwrap(),
            "Bitte geben Sie höchstens 10 an."
        );
        assert!(error_for(f.clone(), "zehn").is_some());
        assert!(error_for(f, "NaN").is_some());
    }

    #[test]
    fn options_and_checkboxes() {
        let mut f = field("g", FieldType::Select, true);
        f.options = vec!["Rüde".into(), "Hündin".into()];
        assert!(error_for(f.clone(), "Hündin").is_none());
        assert!(error_for(f, "Katze").is_some());
        let consent = field("ok", FieldType::Checkbox, true);
        assert!(error_for(consent.clone(), "").is_some());
        assert!(error_for(consent.clone(), "on").is_none());
        let optional = field("news", FieldType::Checkbox, false);
        assert_eq!(
            validate(&[optional], &Submitted::new()).unwrap()["news"],
            "nein"
        );
    }

    #[test]
    fn length_limits_and_control_characters() {
        let mut f = field("t", FieldType::Text, true);
        f.max_length = Some(5);
        assert!(error_for(f.clone(), "Müller").is_some());
        assert!(error_for(f.clone(), "Maier").is_none());
        assert!(error_for(field("t", FieldType::Text, true), "a\u{0}b").is_some());
        assert!(error_for(field("t", FieldType::Textarea, true), "Zeile 1\nZeile 2").is_none());
        assert!(error_for(field("t", FieldType::Text, true), &"x".repeat(201)).is_some());
    }

    proptest! {
        #[test]
        fn never_panics(kind in 0usize..11, value in "\\PC{0,60}", required: bool) {
            let mut f = field("x", FieldType::ALL[kind], required);
            f.options = vec!["a".into()];
            f.min = Some(-5.0);
            f.max = Some(5.0);
            let _ = validate(&[f], &submit(&[("x", &value)]));
        }
    }
}
