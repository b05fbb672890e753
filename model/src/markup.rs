//! The HTML of one form field: the one place its markup lives. The theme prints it
//! through the `form_field` template function the generator registers, and the
//! functions print it in the form they show again with errors, so the two cannot drift.
//!
//! Plain string building (the functions run as WebAssembly, without a template engine).
//! The pattern is GOV.UK's: label (a `<legend>` for a radio group), hint, error message,
//! control; the control is described by the hint and the error and marked
//! `aria-invalid` when there is one (WCAG 1.3.1, 3.3.1, 3.3.2, 4.1.2). Ids:
//! `feld-<id>` for the control (`feld-<id>-<n>` for the n-th radio button), `hilfe-<id>`
//! for the hint, `fehler-<id>` for the error message.

use std::fmt::Write as _;

use crate::form::{FieldType, FormField};

/// HTML escaping for text and attribute values (double-quoted). `/` is left alone: it is
/// safe in both, and escaping it would bloat every URL.
pub fn escape(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    let mut copied = 0;
    for (i, byte) in input.bytes().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        out.push_str(&input[copied..i]);
        out.push_str(replacement);
        copied = i + 1;
    }
    out.push_str(&input[copied..]);
    out
}

/// The `inputmode` of a field's control: the keyboard a phone shows.
pub fn inputmode(kind: FieldType) -> Option<&'static str> {
    match kind {
        FieldType::Postcode => Some("numeric"),
        FieldType::Number => Some("decimal"),
        _ => None,
    }
}

/// The `pattern` a field's value must match in the browser (the functions check it
/// again).
pub fn pattern(kind: FieldType) -> Option<&'static str> {
    match kind {
        FieldType::Postcode => Some("[0-9]{5}"),
        _ => None,
    }
}

/// Codes and addresses rather than words: no spelling check underlines them.
fn spellcheck_off(kind: FieldType) -> bool {
    matches!(
        kind,
        FieldType::Email | FieldType::Iban | FieldType::Postcode
    )
}

/// True for the values a checked checkbox may come back with.
pub fn is_checked(value: &str) -> bool {
    matches!(value, "ja" | "on" | "true" | "1")
}

/// One field as HTML: a `<div class="feld …">` (a `<fieldset>` for a radio group) with
/// label, hint, `error` when given, and the control holding `value` (what was typed or
/// chosen; empty for a fresh form). No trailing newline.
pub fn render_field(field: &FormField, value: &str, error: Option<&str>) -> String {
    let mut out = String::with_capacity(512);
    let id = escape(&field.id);
    let input_id = format!("feld-{id}");
    let label = escape(&field.label);
    let marker = if field.required {
        " <span class=\"pflicht\">(Pflichtfeld)</span>"
    } else {
        ""
    };
    let error_class = if error.is_some() { " feld--fehler" } else { "" };
    let help = field
        .help
        .as_deref()
        .map(|h| {
            format!(
                "<p class=\"feld__hilfe\" id=\"hilfe-{id}\">{}</p>\n",
                escape(h)
            )
        })
        .unwrap_or_default();
    let message = error
        .map(|e| {
            format!(
                "<p class=\"feld__fehler\" id=\"fehler-{id}\"><span class=\"vh\">Fehler:</span> {}</p>\n",
                escape(e)
            )
        })
        .unwrap_or_default();
    let mut described = Vec::new();
    if field.help.is_some() {
        described.push(format!("hilfe-{id}"));
    }
    if error.is_some() {
        described.push(format!("fehler-{id}"));
    }
    let describedby = if described.is_empty() {
        String::new()
    } else {
        format!(" aria-describedby=\"{}\"", described.join(" "))
    };
    let invalid = if error.is_some() {
        " aria-invalid=\"true\""
    } else {
        ""
    };
    // `aria-required` is not allowed on a radio button: `required` says it there.
    let required = if field.required {
        " required aria-required=\"true\""
    } else {
        ""
    };

    match field.kind {
        FieldType::Radio => {
            let _ = write!(
                out,
                "<fieldset class=\"feld feld--gruppe{error_class}\" id=\"{input_id}\"{describedby}>\n<legend class=\"feld__label\">{label}{marker}</legend>\n{help}{message}"
            );
            let required = if field.required { " required" } else { "" };
            for (n, option) in field.options.iter().enumerate() {
                let checked = if option == value { " checked" } else { "" };
                let _ = writeln!(
                    out,
                    "<div class=\"wahl\"><input type=\"radio\" id=\"{input_id}-{n}\" name=\"{id}\" value=\"{o}\"{checked}{required}{invalid}><label for=\"{input_id}-{n}\">{o}</label></div>",
                    n = n + 1,
                    o = escape(option)
                );
            }
            out.push_str("</fieldset>");
        }
        FieldType::Checkbox => {
            let checked = if is_checked(value) { " checked" } else { "" };
            let _ = write!(
                out,
                "<div class=\"feld feld--ankreuz{error_class}\">\n{message}<div class=\"wahl\"><input type=\"checkbox\" id=\"{input_id}\" name=\"{id}\" value=\"ja\"{checked}{required}{invalid}{describedby}><label for=\"{input_id}\">{label}{marker}</label></div>\n{help}</div>"
            );
        }
        kind => {
            let _ = write!(
                out,
                "<div class=\"feld{error_class}\">\n<label class=\"feld__label\" for=\"{input_id}\">{label}{marker}</label>\n{help}{message}"
            );
            let class = format!("class=\"eingabe eingabe--{}\"", kind.as_str());
            let name = format!("id=\"{input_id}\" name=\"{id}\"");
            let mut attrs = format!("{required}{invalid}{describedby}");
            if let Some(token) = field.autocomplete_token() {
                let _ = write!(attrs, " autocomplete=\"{}\"", escape(token));
            }
            if let Some(claim) = field.prefill.as_deref() {
                let _ = write!(attrs, " data-prefill=\"{}\"", escape(claim));
            }
            match kind {
                FieldType::Textarea => {
                    // The parser drops one newline right after `<textarea>`: keep the
                    // value's own.
                    let lead = if value.starts_with('\n') { "\n" } else { "" };
                    let _ = write!(
                        out,
                        "<textarea {class} {name} rows=\"6\"{attrs} maxlength=\"{}\">{lead}{}</textarea>",
                        field.effective_max_length(),
                        escape(value)
                    );
                }
                FieldType::Select => {
                    let _ = write!(
                        out,
                        "<select {class} {name}{attrs}>\n<option value=\"\">Bitte wählen</option>\n"
                    );
                    for option in &field.options {
                        let selected = if option == value { " selected" } else { "" };
                        let _ = writeln!(
                            out,
                            "<option value=\"{o}\"{selected}>{o}</option>",
                            o = escape(option)
                        );
                    }
                    out.push_str("</select>");
                }
                _ => {
                    let input_type = kind.html_input_type();
                    let _ = write!(out, "<input {class} type=\"{input_type}\" {name}{attrs}");
                    if !value.is_empty() {
                        let _ = write!(out, " value=\"{}\"", escape(value));
                    }
                    if let Some(mode) = inputmode(kind) {
                        let _ = write!(out, " inputmode=\"{mode}\"");
                    }
                    if let Some(pattern) = pattern(kind) {
                        let _ = write!(out, " pattern=\"{}\"", escape(pattern));
                    }
                    if let Some(min) = field.min {
                        let _ = write!(out, " min=\"{min}\"");
                    }
                    if let Some(max) = field.max {
                        let _ = write!(out, " max=\"{max}\"");
                    }
                    // `maxlength` applies to text-like inputs only, not to date or number.
                    if matches!(input_type, "text" | "email" | "tel") {
                        let _ = write!(out, " maxlength=\"{}\"", field.effective_max_length());
                    }
                    if spellcheck_off(kind) {
                        out.push_str(" spellcheck=\"false\"");
                    }
                    out.push('>');
                }
            }
            out.push_str("\n</div>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldType) -> FormField {
        FormField::new("x", "Feld", kind)
    }

    #[test]
    fn escapes_markup_but_not_slashes() {
        assert_eq!(escape("/bottrop/a-z/"), "/bottrop/a-z/");
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#x27;Jerry&#x27;&lt;/a&gt;"
        );
        assert_eq!(escape("Größe ä"), "Größe ä");
    }

    #[test]
    fn a_text_field_has_label_hint_and_described_control() {
        let f = FormField {
            required: true,
            help: Some("Wie im Ausweis".into()),
            ..FormField::new("name", "Name", FieldType::Text)
        };
        assert_eq!(
            render_field(&f, "", None),
            "<div class=\"feld\">\n\
             <label class=\"feld__label\" for=\"feld-name\">Name <span class=\"pflicht\">(Pflichtfeld)</span></label>\n\
             <p class=\"feld__hilfe\" id=\"hilfe-name\">Wie im Ausweis</p>\n\
             <input class=\"eingabe eingabe--text\" type=\"text\" id=\"feld-name\" name=\"name\" required aria-required=\"true\" aria-describedby=\"hilfe-name\" autocomplete=\"name\" maxlength=\"200\">\n\
             </div>"
        );
    }

    #[test]
    fn an_error_is_announced_at_the_field() {
        let f = FormField {
            help: Some("Hinweis".into()),
            ..field(FieldType::Email)
        };
        let html = render_field(&f, "a@<b>", Some("Bitte prüfen"));
        assert!(html.starts_with("<div class=\"feld feld--fehler\">"));
        assert!(html.contains(
            "<p class=\"feld__fehler\" id=\"fehler-x\"><span class=\"vh\">Fehler:</span> Bitte prüfen</p>"
        ));
        assert!(html.contains(" aria-invalid=\"true\" aria-describedby=\"hilfe-x fehler-x\""));
        assert!(html.contains(" value=\"a@&lt;b&gt;\""));
        assert!(html.contains(" spellcheck=\"false\""));
        // hint before message before control
        let (hint, message, control) = (
            html.find("feld__hilfe").unwrap(),
            html.find("feld__fehler").unwrap(),
            html.find("<input").unwrap(),
        );
        assert!(hint < message && message < control);
    }

    #[test]
    fn a_radio_group_is_a_fieldset_with_a_legend() {
        let f = FormField {
            required: true,
            options: vec!["Rüde".into(), "Hündin".into()],
            help: Some("Eins".into()),
            ..FormField::new("g", "Geschlecht", FieldType::Radio)
        };
        let html = render_field(&f, "Hündin", Some("Bitte wählen Sie"));
        assert!(html.starts_with(
            "<fieldset class=\"feld feld--gruppe feld--fehler\" id=\"feld-g\" aria-describedby=\"hilfe-g fehler-g\">\n<legend class=\"feld__label\">Geschlecht <span class=\"pflicht\">(Pflichtfeld)</span></legend>\n"
        ));
        assert!(html.contains(
            "<input type=\"radio\" id=\"feld-g-1\" name=\"g\" value=\"Rüde\" required aria-invalid=\"true\"><label for=\"feld-g-1\">Rüde</label>"
        ));
        assert!(html.contains("id=\"feld-g-2\" name=\"g\" value=\"Hündin\" checked required"));
        assert!(
            !html.contains("aria-required"),
            "not allowed on radio buttons"
        );
        assert!(html.ends_with("</fieldset>"));
    }

    #[test]
    fn a_select_has_option_values_and_keeps_the_choice() {
        let f = FormField {
            options: vec!["A & B".into(), "C".into()],
            ..field(FieldType::Select)
        };
        let html = render_field(&f, "A & B", None);
        assert!(html.contains("<select class=\"eingabe eingabe--select\" id=\"feld-x\" name=\"x\">\n<option value=\"\">Bitte wählen</option>\n<option value=\"A &amp; B\" selected>A &amp; B</option>\n<option value=\"C\">C</option>\n</select>"));
    }

    #[test]
    fn a_checkbox_keeps_its_tick_and_a_textarea_its_text() {
        let f = FormField {
            required: true,
            ..field(FieldType::Checkbox)
        };
        let html = render_field(&f, "ja", None);
        assert!(html.contains("<input type=\"checkbox\" id=\"feld-x\" name=\"x\" value=\"ja\" checked required aria-required=\"true\"><label for=\"feld-x\">Feld <span class=\"pflicht\">(Pflichtfeld)</span></label>"));
        assert!(!render_field(&f, "", None).contains("checked"));

        let html = render_field(&field(FieldType::Textarea), "\nzwei\n</textarea>", None);
        assert!(html.contains(
            "name=\"x\" rows=\"6\" maxlength=\"5000\">\n\nzwei\n&lt;/textarea&gt;</textarea>"
        ));
    }

    #[test]
    fn inputs_get_the_attributes_of_their_type() {
        let html = render_field(&field(FieldType::Postcode), "", None);
        assert!(html.contains(" autocomplete=\"postal-code\" inputmode=\"numeric\" pattern=\"[0-9]{5}\" maxlength=\"5\" spellcheck=\"false\">"));
        let number = FormField {
            min: Some(1.0),
            max: Some(2.5),
            ..field(FieldType::Number)
        };
        let html = render_field(&number, "", None);
        assert!(html.contains(" inputmode=\"decimal\" min=\"1\" max=\"2.5\">"));
        assert!(!html.contains("maxlength"));
        assert!(!render_field(&field(FieldType::Date), "", None).contains("maxlength"));
        let prefilled = FormField {
            prefill: Some("email".into()),
            ..field(FieldType::Email)
        };
        assert!(render_field(&prefilled, "", None).contains(" data-prefill=\"email\""));
        for kind in FieldType::ALL {
            let html = render_field(&field(kind), "", None);
            assert!(
                !html.contains("value=\"\"") || kind.has_options() || kind == FieldType::Checkbox
            );
            assert!(!html.ends_with('\n'));
        }
    }
}
