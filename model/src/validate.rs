//! Validation of submitted applications against a form schema. The same code runs on
//! the edge (WebAssembly) and under `lotse serve`; messages are German, one per field,
//! ready to show next to the field and in the error summary.
//!
//! Every value is trimmed and normalised to Unicode NFC before it is checked, and the
//! accepted value is the normalised one (NFC text, canonical numbers and dates, IBAN
//! without spaces), so that the office receives one spelling of one value.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::form::{FieldType, FormField};

/// What the citizen sent, one text value per field id. Checkboxes that are not ticked
/// are simply absent, as browsers send them.
pub type Submitted = BTreeMap<String, String>;

/// The validated values, normalised (NFC, IBAN without spaces, checkbox as "ja"/"nein",
/// numbers and dates in canonical form).
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
        let raw: String = submitted
            .get(&field.id)
            .map(|v| v.trim().nfc().collect())
            .unwrap_or_default();
        match check_field(field, &raw) {
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
    // Text that shows nothing (zero-width spaces, Hangul fillers, ...) is no answer.
    if raw.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
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
    // Bidi controls can make text read differently from what it is ("Trojan Source").
    if raw.chars().any(is_bidi_control) {
        return Err(
            "Die Eingabe enthält unsichtbare Steuerzeichen für die Schreibrichtung. Bitte geben Sie den Text ohne sie ein.".into(),
        );
    }
    if !allows_newlines && raw.contains(['\u{2028}', '\u{2029}']) {
        return Err("Bitte geben Sie hier alles in einer Zeile ein.".into());
    }
    let value = match field.kind {
        FieldType::Text | FieldType::Textarea => raw.to_string(),
        FieldType::Email => check_email(raw)?,
        FieldType::Tel => check_phone(raw)?,
        FieldType::Date => check_date(raw)?,
        FieldType::Number => check_number(field, raw)?,
        FieldType::Select | FieldType::Radio => {
            let Some(option) = field.options.iter().find(|o| o.nfc().eq(raw.chars())) else {
                return Err("Bitte wählen Sie eine der angebotenen Möglichkeiten.".into());
            };
            option.nfc().collect()
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

/// An address that mail servers deliver to: a dot-atom local part (RFC 5321) of ASCII
/// letters, digits and the usual symbols, or of letters and digits of any script
/// (SMTPUTF8), never quoted, no comments, no display name; a domain name with at least
/// one dot, no address literal. The parser of the `email_address` crate checks the
/// syntax; the rules here narrow it to that. The domain is stored in lower case.
/// An e-mail address as mail servers accept it; the error is the German message.
pub fn check_email(raw: &str) -> Result<String, String> {
    let message = || {
        "Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@beispiel.de.".to_string()
    };
    let (local, domain) = raw.rsplit_once('@').ok_or_else(message)?;
    let local_char = |c: char| {
        c.is_ascii_alphanumeric()
            || "!#$%&'*+-/=?^_`{|}~".contains(c)
            || (!c.is_ascii() && c.is_alphanumeric() && !is_invisible(c))
    };
    let local_ok = local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(local_char));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || c == '-'
                        || (!c.is_ascii() && c.is_alphanumeric() && !is_invisible(c))
                })
        })
        && labels.last().is_some_and(|tld| {
            tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
        });
    let options = email_address::Options::default()
        .with_required_tld()
        .without_domain_literal()
        .without_display_text();
    if local_ok
        && domain_ok
        && email_address::EmailAddress::parse_with_options(raw, options).is_ok()
    {
        Ok(format!("{local}@{}", domain.to_lowercase()))
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

/// ISO 8601 calendar date `YYYY-MM-DD`, as `<input type="date">` sends it: exactly four,
/// two and two ASCII digits (no signs, no spaces), a real day of the calendar (`time`),
/// not before 1800.
fn check_date(raw: &str) -> Result<String, String> {
    let message = || "Bitte geben Sie ein gültiges Datum an (Format JJJJ-MM-TT).".to_string();
    let bytes = raw.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return Err(message());
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'))
    };
    let year = i32::from(number(0..4));
    let month = time::Month::try_from(number(5..7) as u8).map_err(|_| message())?;
    let day = number(8..10) as u8;
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| message())?;
    if year < 1800 {
        return Err(message());
    }
    Ok(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

/// A decimal number as the citizen types it: optional sign, digits, optionally a
/// decimal comma or point and more digits; no exponent, no thousands separators.
/// Compared exactly (not as `f64`) with `min` and `max`, and stored in canonical form:
/// point as separator, no leading or trailing zeros, no `+`, no `-0`.
fn check_number(field: &FormField, raw: &str) -> Result<String, String> {
    let value = Decimal::parse(raw).ok_or_else(|| "Bitte geben Sie eine Zahl an.".to_string())?;
    if let Some(min) = field.min {
        if Decimal::of_bound(min).is_some_and(|min| value < min) {
            return Err(format!(
                "Bitte geben Sie mindestens {} an.",
                format_number(min)
            ));
        }
    }
    if let Some(max) = field.max {
        if Decimal::of_bound(max).is_some_and(|max| value > max) {
            return Err(format!(
                "Bitte geben Sie höchstens {} an.",
                format_number(max)
            ));
        }
    }
    Ok(value.to_string())
}

/// An exact decimal number: sign, integer digits without leading zeros (empty for
/// zero), fraction digits without trailing zeros. Zero is never negative.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    int: String,
    frac: String,
}

impl Decimal {
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, unsigned) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (int, frac) = match unsigned.split_once(['.', ',']) {
            Some((int, frac)) => (int, frac),
            None => (unsigned, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
            return None;
        }
        let int = int.trim_start_matches('0').to_string();
        let frac = frac.trim_end_matches('0').to_string();
        let negative = negative && !(int.is_empty() && frac.is_empty());
        Some(Decimal {
            negative,
            int,
            frac,
        })
    }

    /// A `min` or `max` of the schema: the shortest decimal that reads back as the same
    /// `f64`, which is what the editor wrote (`3`, `2.5`, `0.1`).
    fn of_bound(bound: f64) -> Option<Decimal> {
        bound
            .is_finite()
            .then(|| Decimal::parse(&bound.to_string()))?
    }

    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        // Without leading zeros, a longer integer part is bigger; without trailing zeros,
        // fraction digits compare as strings.
        (self.int.len(), &self.int, &self.frac).cmp(&(other.int.len(), &other.int, &other.frac))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        let int = if self.int.is_empty() { "0" } else { &self.int };
        if self.frac.is_empty() {
            write!(f, "{sign}{int}")
        } else {
            write!(f, "{sign}{int}.{}", self.frac)
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}").replace('.', ",")
    }
}

/// A character that shows nothing: a format character (General Category Cf: zero-width
/// space and joiners, soft hyphen, bidi controls, word joiner, BOM, tags, ...), the
/// Hangul fillers (letters by category, blank on screen), the combining grapheme joiner,
/// variation selectors and the blank Braille pattern.
fn is_invisible(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
        || matches!(
            c,
            '\u{115F}'
                | '\u{1160}'
                | '\u{3164}'
                | '\u{FFA0}'
                | '\u{034F}'
                | '\u{2800}'
                | '\u{180B}'..='\u{180F}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{E0100}'..='\u{E01EF}'
        )
}

/// The Unicode Bidi_Control characters: marks, embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
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

    #[test]
    fn dates_are_parsed_strictly_and_stored_normalised() {
        let f = || field("d", FieldType::Date, true);
        let ok = validate(&[f()], &submit(&[("d", " 2026-01-05 ")])).unwrap();
        assert_eq!(ok["d"], "2026-01-05");
        for bad in [
            "2026-+1-+5",
            "+026-01-05",
            "2026-01-+5",
            "2026-1-05",
            "2026-01-5",
            "2026-00-10",
            "2026-01-00",
            "2026-02-29",
            "1799-12-31",
            "２０２６-01-05",
            "2026-01-0x",
            "2026/01/05",
        ] {
            assert_eq!(
                error_for(f(), bad).as_deref(),
                Some("Bitte geben Sie ein gültiges Datum an (Format JJJJ-MM-TT)."),
                "{bad}"
            );
        }
    }

    #[test]
    fn invisible_characters_are_no_answer() {
        for blank in [
            "\u{200B}",
            "\u{3164}",
            "\u{115F}\u{1160}",
            "\u{FFA0}",
            "\u{FEFF}",
            "\u{2060}\u{200D}",
            "\u{200B} \u{200C}",
            "\u{00AD}",
            "\u{2800}",
        ] {
            assert_eq!(
                error_for(field("t", FieldType::Text, true), blank).as_deref(),
                Some("Bitte füllen Sie dieses Pflichtfeld aus."),
                "{blank:?}"
            );
            assert_eq!(
                error_for(field("t", FieldType::Textarea, true), blank).as_deref(),
                Some("Bitte füllen Sie dieses Pflichtfeld aus."),
                "{blank:?}"
            );
            // An optional field with nothing visible is left out, not stored.
            let ok = validate(
                &[field("t", FieldType::Text, false)],
                &submit(&[("t", blank)]),
            )
            .unwrap();
            assert!(!ok.contains_key("t"), "{blank:?}");
        }
        // Joiners inside real text stay (they shape some scripts and emoji).
        assert!(error_for(field("t", FieldType::Text, true), "👩\u{200D}💻 Erika").is_none());
    }

    #[test]
    fn bidi_controls_and_line_separators_are_refused() {
        for bidi in [
            "\u{202E}", "\u{202A}", "\u{2066}", "\u{2069}", "\u{200F}", "\u{061C}",
        ] {
            let value = format!("Erika{bidi}Mustermann");
            for kind in [FieldType::Text, FieldType::Textarea] {
                assert!(
                    error_for(field("t", kind, true), &value)
                        .is_some_and(|m| m.contains("Schreibrichtung")),
                    "{kind:?} {bidi:?}"
                );
            }
        }
        for separator in ["\u{2028}", "\u{2029}"] {
            let value = format!("Zeile 1{separator}Zeile 2");
            assert_eq!(
                error_for(field("t", FieldType::Text, true), &value).as_deref(),
                Some("Bitte geben Sie hier alles in einer Zeile ein."),
                "{separator:?}"
            );
            assert!(error_for(field("t", FieldType::Textarea, true), &value).is_none());
        }
    }

    #[test]
    fn text_is_stored_in_nfc() {
        let decomposed = "Mu\u{0308}ller";
        let ok = validate(
            &[field("t", FieldType::Text, true)],
            &submit(&[("t", decomposed)]),
        )
        .unwrap();
        assert_eq!(ok["t"], "Müller");
        // An option matches however either side composes its umlauts.
        let mut f = field("g", FieldType::Radio, true);
        f.options = vec!["Hu\u{0308}ndin".into(), "Rüde".into()];
        let ok = validate(&[f.clone()], &submit(&[("g", "Hündin")])).unwrap();
        assert_eq!(ok["g"], "Hündin");
        let ok = validate(&[f], &submit(&[("g", "Ru\u{0308}de")])).unwrap();
        assert_eq!(ok["g"], "Rüde");
    }

    #[test]
    fn email_addresses_that_mail_servers_accept() {
        let f = || field("e", FieldType::Email, true);
        for good in [
            "erika.mustermann+antrag@beispiel.de",
            "o'brien@beispiel.de",
            "jürgen@müller.de",
            "info@stadt-bottrop.nrw",
        ] {
            assert!(error_for(f(), good).is_none(), "{good}");
        }
        for bad in [
            "a\u{200b}@b.de",
            "a@b\u{200b}.de",
            "<a>@b.de",
            "\"x\";y@b.de",
            "\"x\"@b.de",
            "\"erika mustermann\"@beispiel.de",
            "Erika <erika@beispiel.de>",
            "erika@[127.0.0.1]",
            "erika(kommentar)@beispiel.de",
            "erika..m@beispiel.de",
            ".erika@beispiel.de",
            "erika.@beispiel.de",
            "erika@beispiel..de",
            "erika@beispiel.d",
            "erika@10.0.0.1",
            "erika,m@beispiel.de",
            "erika@bei_spiel.de",
            "a@b@c.de",
            &format!("{}@beispiel.de", "x".repeat(65)),
        ] {
            assert!(error_for(f(), bad).is_some(), "{bad}");
        }
        // The domain is case-insensitive; the local part may not be.
        let ok = validate(&[f()], &submit(&[("e", "Erika@Beispiel.DE")])).unwrap();
        assert_eq!(ok["e"], "Erika@beispiel.de");
    }

    #[test]
    fn numbers_compare_exactly_and_are_stored_canonical() {
        let mut f = field("n", FieldType::Number, true);
        f.max = Some(3.0);
        f.min = Some(-0.1);
        assert_eq!(
            error_for(f.clone(), "3.00000000000000001").as_deref(),
            Some("Bitte geben Sie höchstens 3 an.")
        );
        assert_eq!(
            error_for(f.clone(), "-0,10000000000000001").as_deref(),
            Some("Bitte geben Sie mindestens -0,1 an.")
        );
        for (typed, stored) in [
            ("3", "3"),
            ("3,000", "3"),
            ("003.0", "3"),
            ("2,50", "2.5"),
            ("+1", "1"),
            (",5", "0.5"),
            ("-0", "0"),
            ("-0,1", "-0.1"),
            ("0.09999999999999999999", "0.09999999999999999999"),
        ] {
            let ok = validate(&[f.clone()], &submit(&[("n", typed)])).unwrap();
            assert_eq!(ok["n"], stored, "{typed}");
        }
        for bad in [
            "1e0", "1.000,5", "1 000", "0x1", "inf", ".", "-", "+-1", "1,2,3", "½", "٣",
        ] {
            assert_eq!(
                error_for(f.clone(), bad).as_deref(),
                Some("Bitte geben Sie eine Zahl an."),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn accepted_text_is_nfc_without_bidi_controls(value in "\\PC{0,40}", textarea: bool) {
            let kind = if textarea { FieldType::Textarea } else { FieldType::Text };
            if let Ok(ok) = validate(&[field("t", kind, false)], &submit(&[("t", &value)])) {
                if let Some(v) = ok.get("t") {
                    prop_assert!(unicode_normalization::is_nfc(v));
                    prop_assert!(!v.chars().any(is_bidi_control));
                    prop_assert!(!v.chars().all(|c| c.is_whitespace() || is_invisible(c)));
                }
            }
        }

        #[test]
        fn canonical_numbers_are_accepted_as_themselves(int in 0u64..1_000_000, frac in "[0-9]{0,6}", negative: bool) {
            let typed = format!("{}{int},{frac}", if negative { "-" } else { "" });
            let ok = validate(&[field("n", FieldType::Number, true)], &submit(&[("n", &typed)])).unwrap();
            let again = validate(&[field("n", FieldType::Number, true)], &submit(&[("n", &ok["n"])])).unwrap();
            prop_assert_eq!(&ok["n"], &again["n"]);
            let as_f64: f64 = typed.replace(',', ".").parse().unwrap();
            prop_assert_eq!(ok["n"].parse::<f64>().unwrap(), as_f64);
        }
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
