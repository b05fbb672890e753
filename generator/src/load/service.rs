//! Reads one service file into a draft: every key optional and located, so that
//! resolution can merge overrides and point at the line that caused a problem.

use std::collections::HashSet;
use std::sync::Arc;

use lotse_model::form::PREFILL_CLAIMS;
use lotse_model::payment::{Cents, PURPOSE_MAX_CHARS};
use lotse_model::{FieldType, Form, FormField, Provider, TrustLevel};

use super::fields::{Fields, Located, TomlDoc};
use super::frontmatter::{self, FrontMatterError};
use crate::body::Body;
use crate::diagnostics::{hint, Diagnostics, Loc};
use crate::source::SourceText;

/// Ids that every form already uses: its hidden routing inputs and the optional address
/// for notifications.
const RESERVED_FIELD_IDS: [&str; 3] = ["portal", "service", lotse_model::form::NOTIFY_FIELD];

/// A service file as written, before regional and local layers are merged.
#[derive(Clone, Debug)]
pub struct ServiceDraft {
    pub slug: String,
    pub path: Arc<str>,
    pub title: Option<Located<String>>,
    pub summary: Option<Located<String>>,
    pub categories: Option<Vec<Located<String>>>,
    pub portals: Option<Vec<Located<String>>>,
    pub extends: Option<Located<String>>,
    pub office: Option<Located<String>>,
    pub provider: Option<Located<Provider>>,
    pub url: Option<Located<String>>,
    pub leika: Option<Located<String>>,
    pub keywords: Option<Vec<String>>,
    pub documents: Option<Vec<String>>,
    pub fees: Option<Vec<String>>,
    pub deadlines: Option<Vec<String>>,
    pub legal_basis: Option<Vec<String>>,
    pub processing_time: Option<Located<String>>,
    pub login: Option<Located<TrustLevel>>,
    pub form: Option<Located<Form>>,
    /// `[payment]`, located at the table; its keys are left out where invalid.
    pub payment: Option<Located<PaymentDraft>>,
    /// `appointment = { duration = N }`, located at the table: booked at the office.
    pub appointment: Option<Located<super::AppointmentDraft>>,
    /// Earlier addresses of the service, as written (`/bottrop/alter-name/` or, per
    /// portal, `alter-name`); resolution turns them into paths (docs/content-format.md).
    pub aliases: Option<Vec<Located<String>>>,
    /// The Markdown body, `None` when it is blank (a local override then inherits):
    /// its place in the file, read again when its pages are rendered.
    pub body: Option<Arc<Body>>,
    /// The body's links into the site, located (`check/links.rs` checks them).
    pub links: Arc<[super::LocatedLink]>,
}

/// A service's `[payment]` as written: the fee paid online at the end of the
/// application.
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentDraft {
    /// `None` when missing or invalid (reported).
    pub amount: Option<Located<Cents>>,
    /// The Verwendungszweck; `None` means the default, the title cut to fit.
    pub purpose: Option<Located<String>>,
}

/// Which layer a service file belongs to; decides which keys are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Regional,
    Local,
}

/// Parses a service file. Returns `None` when it cannot be read as a service at all
/// (no front matter, TOML syntax errors); other problems are reported and the draft is
/// returned with the broken keys left out.
pub fn parse_service(
    src: &SourceText,
    slug: String,
    layer: Layer,
    diags: &Diagnostics,
) -> Option<ServiceDraft> {
    let parts = match frontmatter::split(&src.text) {
        Ok(parts) => parts,
        Err(error) => {
            report_front_matter_error(src, error, diags);
            return None;
        }
    };
    let doc = TomlDoc {
        src,
        base: parts.front_matter_offset,
    };
    let table = doc.parse(parts.front_matter, diags)?;
    let mut f = Fields::new(&table, "service front matter", &doc, diags);

    let extends = f.str("extends");
    let portals = f.str_list("portals");
    let is_override = extends.is_some();
    let (title, summary, categories) = if is_override {
        (f.str("title"), f.str("summary"), f.str_list("categories"))
    } else {
        (
            f.required_str("title"),
            f.required_str("summary"),
            f.str_list("categories"),
        )
    };
    if !is_override && categories.is_none() && !f.has("categories") {
        diags.error(
            f.loc().clone(),
            "missing required key `categories` in service front matter",
        );
    }
    if let Some(list) = &categories {
        if list.is_empty() {
            diags.error(
                f.loc().clone(),
                "`categories` needs at least one category id",
            );
        }
    }
    match layer {
        Layer::Regional => {
            if let Some(e) = &extends {
                diags.error(
                    e.loc.clone(),
                    "`extends` is only allowed in a portal's local service file",
                );
            }
        }
        Layer::Local => {
            if let Some(list) = &portals {
                let at = list
                    .first()
                    .map_or_else(|| f.loc().clone(), |p| p.loc.clone());
                diags.error(
                    at,
                    "`portals` is only allowed in a regional service file; a local file belongs to its portal",
                );
            }
        }
    }

    let provider = f.str("provider").and_then(|p| {
        let parsed = Provider::parse(&p.value);
        if parsed.is_none() {
            let names: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
            diags.error(
                p.loc.clone(),
                format!(
                    "unknown provider `{}`; expected one of {}{}",
                    p.value,
                    names.join(", "),
                    hint(&p.value, &names)
                ),
            );
        }
        parsed.map(|value| Located { value, loc: p.loc })
    });
    let login = f.str("login").and_then(|l| {
        let parsed = TrustLevel::parse(&l.value);
        if parsed.is_none() {
            let names: Vec<&str> = TrustLevel::ALL.iter().map(|l| l.as_str()).collect();
            diags.error(
                l.loc.clone(),
                format!(
                    "unknown login level `{}`; expected one of {}{}",
                    l.value,
                    names.join(", "),
                    hint(&l.value, &names)
                ),
            );
        }
        parsed.map(|value| Located { value, loc: l.loc })
    });
    let leika = f.str("leika");
    if let Some(l) = &leika {
        if l.value.len() != 14 || !l.value.bytes().all(|b| b.is_ascii_digit()) {
            diags.warning(
                l.loc.clone(),
                format!(
                    "`leika` should be the 14-digit Leistungsschlüssel, found `{}`",
                    l.value
                ),
            );
        }
    }
    let url = f.str("url");
    if let Some(u) = &url {
        if !(u.value.starts_with("https://") || u.value.starts_with("http://")) {
            diags.error(u.loc.clone(), "`url` must be an absolute http(s) address");
        }
    }

    // A blank body is none: a local override then inherits the regional one.
    let blank_body = parts.body.trim().is_empty();
    let draft = ServiceDraft {
        slug,
        path: src.path.clone(),
        title,
        summary,
        categories,
        portals,
        extends,
        office: f.str("office"),
        provider,
        url,
        leika,
        keywords: f.text_list("keywords"),
        documents: f.text_list("documents"),
        fees: f.text_list("fees"),
        deadlines: f.text_list("deadlines"),
        legal_basis: f.text_list("legal_basis"),
        processing_time: f.str("processing_time"),
        login,
        form: f.table("form", "[form]").map(parse_form),
        payment: f.table("payment", "[payment]").map(parse_payment),
        appointment: f
            .table("appointment", "appointment")
            .map(super::appointments::parse_service_appointment),
        aliases: f.str_list("aliases").map(|list| {
            list.into_iter()
                .filter(|alias| check_alias(alias, diags))
                .collect()
        }),
        body: (!blank_body).then(|| {
            Arc::new(Body::in_file(
                src.path.clone(),
                parts.body_offset,
                parts.body,
            ))
        }),
        links: if blank_body {
            Arc::from([])
        } else {
            Arc::from(super::links::located_links(
                parts.body,
                &src.loc(parts.body_offset),
            ))
        },
    };
    if let Some(summary) = &draft.summary {
        if summary.value.chars().count() > 300 {
            diags.warning(
                summary.loc.clone(),
                "`summary` is longer than 300 characters; one or two sentences read best in lists",
            );
        }
    }
    f.finish();
    Some(draft)
}

/// An alias is a folder path: names of letters, digits, `-`, `_` and `.` separated by
/// `/`, absolute (`/bottrop/alter-name/`) or relative to each portal (`alter-name`).
fn check_alias(alias: &Located<String>, diags: &Diagnostics) -> bool {
    let inner = alias.value.trim_matches('/');
    let valid = !inner.is_empty()
        && inner.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if !valid {
        diags.error(
            alias.loc.clone(),
            format!(
                "the alias `{}` is not a path: use names of letters, digits, `-`, `_` and `.` separated by `/`, e.g. `/bottrop/alter-name/` or `alter-name`",
                alias.value
            ),
        );
    }
    valid
}

fn parse_payment(mut f: Fields<'_, '_, '_>) -> Located<PaymentDraft> {
    let loc = f.loc().clone();
    let diags = f.diags();
    if !f.has("amount") {
        diags.error(
            loc.clone(),
            "missing required key `amount` in [payment]: the fee in euros, e.g. `amount = 12.50`",
        );
    }
    let amount = f.number("amount").and_then(|a| {
        let euros = a.value;
        let message = if euros <= 0.0 {
            format!(
                "`amount` must be more than 0 euros, found `{euros}`; a service without a fee has no `[payment]`"
            )
        } else if euros > 1_000_000.0 {
            format!("`amount` must be at most 1000000 euros, found `{euros}`")
        } else if let Some(cents) = Cents::from_euros(euros) {
            return Some(Located {
                value: cents,
                loc: a.loc,
            });
        } else {
            format!(
                "`amount` is in euros with at most two decimals (cents), e.g. `12.5` or `30.70`, found `{euros}`"
            )
        };
        diags.error(a.loc, message);
        None
    });
    let purpose = f.str("purpose").filter(|p| {
        let chars = p.value.chars().count();
        if chars == 0 {
            diags.error(
                p.loc.clone(),
                "`purpose` must not be empty; leave it out to use the title",
            );
        } else if chars > PURPOSE_MAX_CHARS {
            diags.error(
                p.loc.clone(),
                format!(
                    "`purpose` has {chars} characters; a Verwendungszweck may have at most {PURPOSE_MAX_CHARS}"
                ),
            );
        }
        (1..=PURPOSE_MAX_CHARS).contains(&chars)
    });
    f.finish();
    Located {
        value: PaymentDraft { amount, purpose },
        loc,
    }
}

fn parse_form(mut f: Fields<'_, '_, '_>) -> Located<Form> {
    let loc = f.loc().clone();
    let diags = f.diags();
    let intro = f.str("intro").map(|s| s.value);
    let entries = f.tables("fields", "form field");
    if !f.has("fields") {
        diags.error(
            loc.clone(),
            "`[form]` needs at least one `[[form.fields]]` entry",
        );
    }
    let mut seen = HashSet::new();
    let mut fields = Vec::with_capacity(entries.len());
    for entry in entries {
        if let Some(field) = parse_field(entry, diags) {
            if !seen.insert(field.value.id.clone()) {
                diags.error(
                    field.loc.clone(),
                    format!("duplicate field id `{}` in this form", field.value.id),
                );
            }
            fields.push(field.value);
        }
    }
    if !fields.is_empty() && !fields.iter().any(|field| field.required) {
        diags.warning(
            loc.clone(),
            "this form has no required field; an empty application could be sent",
        );
    }
    f.finish();
    Located {
        value: Form { intro, fields },
        loc,
    }
}

fn parse_field(mut f: Fields<'_, '_, '_>, diags: &Diagnostics) -> Option<Located<FormField>> {
    let id = f.required_str("id");
    let label = f.required_str("label");
    let kind = f.required_str("type");
    let required = f.bool("required").unwrap_or(false);
    let options = f.str_list("options");
    let min = f.number("min");
    let max = f.number("max");
    let max_length = f.positive_int("max_length");
    let help = f.str("help").map(|s| s.value);
    let autocomplete = f.str("autocomplete").map(|s| s.value);
    let prefill = f.str("prefill").and_then(|p| {
        if PREFILL_CLAIMS.contains(&p.value.as_str()) {
            Some(p.value)
        } else {
            diags.error(
                p.loc.clone(),
                format!(
                    "unknown prefill `{}`; expected one of {}{}",
                    p.value,
                    PREFILL_CLAIMS.join(", "),
                    hint(&p.value, &PREFILL_CLAIMS)
                ),
            );
            None
        }
    });
    f.finish();

    if let Some(id) = &id {
        let valid = id
            .value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            diags.error(
                id.loc.clone(),
                format!("field id `{}` may only contain a-z, 0-9 and _", id.value),
            );
        } else if RESERVED_FIELD_IDS.contains(&id.value.as_str()) {
            diags.error(
                id.loc.clone(),
                format!(
                    "field id `{}` is reserved: every form has it already (routing data, notification address)",
                    id.value
                ),
            );
        }
    }
    let kind = kind.and_then(|k| {
        let parsed = FieldType::parse(&k.value);
        if parsed.is_none() {
            let names: Vec<&str> = FieldType::ALL.iter().map(|t| t.as_str()).collect();
            diags.error(
                k.loc.clone(),
                format!(
                    "unknown field type `{}`; expected one of {}{}",
                    k.value,
                    names.join(", "),
                    hint(&k.value, &names)
                ),
            );
        }
        parsed.map(|t| (t, k.loc))
    });

    let (kind, kind_loc) = kind?;
    let options: Vec<String> = options
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.value)
        .collect();
    check_field_constraints(
        kind,
        &kind_loc,
        &options,
        min.as_ref(),
        max.as_ref(),
        max_length.as_ref(),
        diags,
    );

    let (id, label) = (id?, label?);
    Some(Located {
        loc: id.loc,
        value: FormField {
            id: id.value,
            label: label.value,
            kind,
            required,
            options,
            min: min.map(|m| m.value),
            max: max.map(|m| m.value),
            max_length: max_length.map(|m| m.value),
            help,
            autocomplete,
            prefill,
        },
    })
}

fn check_field_constraints(
    kind: FieldType,
    kind_loc: &Loc,
    options: &[String],
    min: Option<&Located<f64>>,
    max: Option<&Located<f64>>,
    max_length: Option<&Located<u32>>,
    diags: &Diagnostics,
) {
    if kind.has_options() {
        if options.is_empty() {
            diags.error(
                kind_loc.clone(),
                format!(
                    "a `{}` field needs a non-empty `options` list",
                    kind.as_str()
                ),
            );
        }
        let mut seen = HashSet::new();
        for option in options {
            if !seen.insert(option) {
                diags.error(kind_loc.clone(), format!("duplicate option `{option}`"));
            }
        }
    } else if !options.is_empty() {
        diags.error(
            kind_loc.clone(),
            format!(
                "`options` only apply to select and radio fields, not `{}`",
                kind.as_str()
            ),
        );
    }
    if kind != FieldType::Number {
        for bound in [min, max].into_iter().flatten() {
            diags.error(
                bound.loc.clone(),
                format!(
                    "`min` and `max` only apply to number fields, not `{}`",
                    kind.as_str()
                ),
            );
        }
    }
    if let (Some(min), Some(max)) = (min, max) {
        if min.value > max.value {
            diags.error(
                min.loc.clone(),
                format!(
                    "`min` ({}) is greater than `max` ({})",
                    min.value, max.value
                ),
            );
        }
    }
    if let Some(len) = max_length {
        if !kind.is_free_text() {
            diags.error(
                len.loc.clone(),
                format!(
                    "`max_length` only applies to free-text fields, not `{}`",
                    kind.as_str()
                ),
            );
        }
    }
}

pub fn report_front_matter_error(src: &SourceText, error: FrontMatterError, diags: &Diagnostics) {
    let message = match error {
        FrontMatterError::Missing => {
            "the file must start with TOML front matter between `+++` lines"
        }
        FrontMatterError::Unclosed => {
            "the front matter opened with `+++` is never closed by a second `+++` line"
        }
    };
    diags.error(src.start(), message);
}
