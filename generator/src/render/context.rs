//! The data each template receives (documented in docs/theme.md), built from the
//! resolved site.

use lotse_model::markup;
use lotse_model::{
    Category, FieldType, Form, FormField, Office, Portal, PortalKind, Provider, TrustLevel,
};
use serde::Serialize;

use crate::resolve::{PortalSite, ResolvedService, Site};

#[derive(Serialize, Clone)]
pub struct Link {
    pub title: String,
    pub url: String,
}

#[derive(Serialize)]
pub struct NavItem<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub url: String,
}

#[derive(Serialize)]
pub struct RegionCtx<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    pub url: &'static str,
    pub description: Option<&'a str>,
    pub operator: Option<&'a str>,
}

impl<'a> RegionCtx<'a> {
    pub fn new(site: &'a Site) -> Self {
        RegionCtx {
            name: &site.region.name,
            slug: &site.region.slug,
            url: "/",
            description: site.region.description.as_deref(),
            operator: site.region.operator.as_deref(),
        }
    }
}

#[derive(Serialize)]
pub struct PortalCtx<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub short_name: &'a str,
    pub kind: PortalKind,
    pub url: String,
    pub logo_url: Option<String>,
    pub theme_css_url: String,
    pub description: Option<&'a str>,
}

impl<'a> PortalCtx<'a> {
    pub fn new(portal: &'a Portal) -> Self {
        PortalCtx {
            slug: &portal.slug,
            name: &portal.name,
            short_name: &portal.short_name,
            kind: portal.kind,
            url: portal_url(portal),
            logo_url: portal
                .theme
                .logo
                .as_ref()
                .map(|logo| format!("/{}/{}", portal.slug, logo)),
            theme_css_url: format!("/{}/theme.css", portal.slug),
            description: portal.description.as_deref(),
        }
    }
}

pub fn portal_url(portal: &Portal) -> String {
    format!("/{}/", portal.slug)
}

pub fn service_url(portal: &Portal, slug: &str) -> String {
    format!("/{}/{}/", portal.slug, slug)
}

pub fn category_url(portal: Option<&Portal>, id: &str) -> String {
    match portal {
        Some(p) => format!("/{}/themen/{}/", p.slug, id),
        None => format!("/themen/{}/", id),
    }
}

#[derive(Serialize)]
pub struct CategoryCard<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub url: String,
    pub service_count: usize,
}

#[derive(Serialize)]
pub struct CategoryCtx<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
}

impl<'a> From<&'a Category> for CategoryCtx<'a> {
    fn from(c: &'a Category) -> Self {
        CategoryCtx {
            id: &c.id,
            title: &c.title,
            description: c.description.as_deref(),
        }
    }
}

pub fn provider_label(provider: Provider) -> &'static str {
    match provider {
        Provider::Kommune => "",
        Provider::Land => "Angebot des Landes NRW",
        Provider::Bund => "Angebot des Bundes",
    }
}

#[derive(Serialize)]
pub struct ServiceSummary<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub url: String,
    pub provider: Provider,
    pub provider_label: &'static str,
    pub external: bool,
    pub external_url: Option<&'a str>,
    /// Host name of `external_url`, for link texts like "Zum Online-Dienst auf bafoeg-digital.de".
    pub external_host: Option<&'a str>,
    pub has_form: bool,
    pub login: TrustLevel,
    pub login_label: &'static str,
}

impl<'a> ServiceSummary<'a> {
    pub fn new(portal: &Portal, s: &'a ResolvedService) -> Self {
        let service = &s.service;
        ServiceSummary {
            slug: &service.slug,
            title: &service.title,
            summary: &service.summary,
            url: service_url(portal, &service.slug),
            provider: service.provider,
            provider_label: provider_label(service.provider),
            external: service.provider.is_external(),
            external_url: service.url.as_deref(),
            external_host: service.url.as_deref().map(host_of),
            has_form: service.form.is_some(),
            login: service.login,
            login_label: service.login.label_de(),
        }
    }
}

/// `https://www.bafoeg-digital.de/antrag` -> `www.bafoeg-digital.de`.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

#[derive(Serialize)]
pub struct OfficeCtx<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub mail_href: Option<String>,
    pub phone: Option<&'a str>,
    pub phone_href: Option<String>,
    pub address: Option<&'a str>,
    pub hours: &'a [String],
}

impl<'a> From<&'a Office> for OfficeCtx<'a> {
    fn from(o: &'a Office) -> Self {
        OfficeCtx {
            id: &o.id,
            name: &o.name,
            email: o.email.as_deref(),
            mail_href: o.email.as_ref().map(|e| format!("mailto:{e}")),
            phone: o.phone.as_deref(),
            phone_href: o.phone.as_deref().map(tel_href),
            address: o.address.as_deref(),
            hours: &o.hours,
        }
    }
}

/// `02041 70-3333` -> `tel:+49204170333`: digits only, German trunk prefix replaced.
pub fn tel_href(phone: &str) -> String {
    let digits: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    match digits.strip_prefix('0') {
        Some(rest) if !rest.starts_with('0') => format!("tel:+49{rest}"),
        _ => format!("tel:{digits}"),
    }
}

#[derive(Serialize)]
pub struct FieldOption {
    pub value: String,
    pub label: String,
    pub input_id: String,
}

#[derive(Serialize)]
pub struct FieldCtx<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub input_id: String,
    pub help_id: String,
    pub error_id: String,
    pub label: &'a str,
    pub kind: FieldType,
    pub input_type: &'static str,
    pub required: bool,
    pub help: Option<&'a str>,
    pub options: Vec<FieldOption>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub max_length: u32,
    pub autocomplete: Option<&'a str>,
    pub prefill: Option<&'a str>,
    pub inputmode: Option<&'static str>,
    pub pattern: Option<&'static str>,
    /// The field as in the form schema: what `form_field(field=f)` renders.
    pub schema: &'a FormField,
}

#[derive(Serialize)]
pub struct FormCtx<'a> {
    pub action: &'static str,
    pub method: &'static str,
    pub portal: &'a str,
    pub service: &'a str,
    pub intro: Option<&'a str>,
    pub error_summary_id: &'static str,
    pub fields: Vec<FieldCtx<'a>>,
    /// Some field is filled from the citizen's login (assets/prefill.js does it).
    pub has_prefill: bool,
}

pub fn form_ctx<'a>(portal: &'a Portal, s: &'a ResolvedService) -> Option<FormCtx<'a>> {
    let form = s.service.form.as_ref()?;
    Some(form_ctx_of(&portal.slug, &s.service.slug, form))
}

/// The form `id` of `portal` (a service's slug, or a page's for a page form).
pub fn form_ctx_of<'a>(portal: &'a str, id: &'a str, form: &'a Form) -> FormCtx<'a> {
    let fields = form
        .fields
        .iter()
        .map(|f| FieldCtx {
            id: &f.id,
            name: &f.id,
            input_id: format!("feld-{}", f.id),
            help_id: format!("hilfe-{}", f.id),
            error_id: format!("fehler-{}", f.id),
            label: &f.label,
            kind: f.kind,
            input_type: f.kind.html_input_type(),
            required: f.required,
            help: f.help.as_deref(),
            options: f
                .options
                .iter()
                .enumerate()
                .map(|(i, o)| FieldOption {
                    value: o.clone(),
                    label: o.clone(),
                    input_id: format!("feld-{}-{}", f.id, i + 1),
                })
                .collect(),
            min: f.min,
            max: f.max,
            max_length: f.effective_max_length(),
            autocomplete: f.autocomplete_token(),
            prefill: f.prefill.as_deref(),
            inputmode: markup::inputmode(f.kind),
            pattern: markup::pattern(f.kind),
            schema: f,
        })
        .collect();
    FormCtx {
        action: "/api/applications",
        method: "post",
        portal,
        service: id,
        intro: form.intro.as_deref(),
        error_summary_id: "fehler",
        has_prefill: form.fields.iter().any(|f| f.prefill.is_some()),
        fields,
    }
}

/// A service's fee, paid online at the end of the application.
#[derive(Serialize)]
pub struct PaymentCtx<'a> {
    /// In cents: 1300 for 13 euros.
    pub amount: u64,
    /// As German readers write it: `13,00 €`.
    pub amount_label: String,
    /// The Verwendungszweck the citizen sees at the payment provider.
    pub purpose: &'a str,
}

#[derive(Serialize)]
pub struct ServiceDetail<'a> {
    #[serde(flatten)]
    pub summary: ServiceSummary<'a>,
    pub categories: Vec<NavItem<'a>>,
    pub leika: Option<&'a str>,
    pub keywords: &'a [String],
    pub documents: &'a [String],
    pub fees: &'a [String],
    pub deadlines: &'a [String],
    pub legal_basis: &'a [String],
    pub processing_time: Option<&'a str>,
    pub body_html: &'a str,
    pub office: Option<OfficeCtx<'a>>,
    pub login_url: Option<String>,
    pub form: Option<FormCtx<'a>>,
    /// The fee paid online (`[payment]`); only with a form.
    pub payment: Option<PaymentCtx<'a>>,
    /// Booked at the office (`appointment`); only where the functions can book it.
    pub appointment: Option<AppointmentCtx>,
}

/// A service booked at its office (`appointment = { duration = N }`).
#[derive(Serialize)]
pub struct AppointmentCtx {
    /// Minutes.
    pub duration: u32,
    /// As a German reader reads it: `30 Minuten`, `1 Stunde`, `1 Stunde 30 Minuten`.
    pub duration_label: String,
    /// How many weeks ahead it can be booked.
    pub weeks: u32,
    /// The booking page of the functions: `/api/termin?portal=…&service=…`.
    pub url: String,
}

/// `30` -> `30 Minuten`, `60` -> `1 Stunde`, `90` -> `1 Stunde 30 Minuten`.
pub fn duration_label(minutes: u32) -> String {
    let (hours, rest) = (minutes / 60, minutes % 60);
    let hours_part = match hours {
        0 => None,
        1 => Some("1 Stunde".to_string()),
        n => Some(format!("{n} Stunden")),
    };
    let minutes_part = match rest {
        0 => None,
        1 => Some("1 Minute".to_string()),
        n => Some(format!("{n} Minuten")),
    };
    match (hours_part, minutes_part) {
        (Some(h), Some(m)) => format!("{h} {m}"),
        (Some(h), None) => h,
        (None, Some(m)) => m,
        (None, None) => "0 Minuten".to_string(),
    }
}

impl<'a> ServiceDetail<'a> {
    pub fn new(
        site: &'a Site,
        ps: &'a PortalSite,
        s: &'a ResolvedService,
        body_html: &'a str,
    ) -> Self {
        let portal = &ps.portal;
        let service = &s.service;
        let categories = service
            .categories
            .iter()
            .filter_map(|id| site.categories.iter().find(|c| &c.id == id))
            .map(|c| NavItem {
                id: &c.id,
                title: &c.title,
                url: category_url(Some(portal), &c.id),
            })
            .collect();
        let login_url = (service.login != TrustLevel::None).then(|| {
            let return_to = format!("{}#antrag", service_url(portal, &service.slug));
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("portal", &portal.slug)
                .append_pair("return", &return_to)
                .append_pair("level", service.login.as_str())
                .finish();
            format!("/api/login?{query}")
        });
        ServiceDetail {
            summary: ServiceSummary::new(portal, s),
            categories,
            leika: service.leika.as_deref(),
            keywords: &service.keywords,
            documents: &service.documents,
            fees: &service.fees,
            deadlines: &service.deadlines,
            legal_basis: &service.legal_basis,
            processing_time: service.processing_time.as_deref(),
            body_html,
            office: service
                .office
                .as_deref()
                .and_then(|id| portal.office(id))
                .map(OfficeCtx::from),
            login_url,
            form: form_ctx(portal, s),
            payment: service
                .payment
                .as_ref()
                .filter(|_| service.form.is_some())
                .map(|p| PaymentCtx {
                    amount: p.amount.0,
                    amount_label: p.amount.label_de(),
                    purpose: &p.purpose,
                }),
            appointment: appointment_ctx(portal, s, site.region.booking_weeks()),
        }
    }
}

/// The appointment of `s` in `portal`, when the build publishes it for booking.
fn appointment_ctx(portal: &Portal, s: &ResolvedService, weeks: u32) -> Option<AppointmentCtx> {
    let plan = super::bookable_service(portal, s, weeks)?.plan;
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("portal", &portal.slug)
        .append_pair("service", &s.service.slug)
        .finish();
    Some(AppointmentCtx {
        duration: plan.duration,
        duration_label: duration_label(plan.duration),
        weeks: plan.horizon_weeks,
        url: format!("/api/termin?{query}"),
    })
}

#[derive(Serialize)]
pub struct PortalCard<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub short_name: &'a str,
    pub kind: PortalKind,
    pub url: String,
    pub logo_url: Option<String>,
    pub service_count: usize,
}

#[derive(Serialize)]
pub struct OfferedIn<'a> {
    pub name: &'a str,
    pub short_name: &'a str,
    pub url: String,
}

#[derive(Serialize)]
pub struct RegionalService<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub provider: Provider,
    pub provider_label: &'static str,
    pub offered_in: Vec<OfferedIn<'a>>,
}

#[derive(Serialize)]
pub struct Letter<'a> {
    pub letter: String,
    pub anchor: String,
    pub services: Vec<ServiceSummary<'a>>,
}

#[derive(Serialize)]
pub struct PageCtx<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub body_html: &'a str,
    /// A form on the page (the accessibility statement's feedback form).
    pub form: Option<FormCtx<'a>>,
    /// Who receives what the form sends.
    pub form_office: Option<OfficeCtx<'a>>,
}

#[cfg(test)]
mod tests {
    use super::duration_label;

    #[test]
    fn durations_read_as_german_minutes_and_hours() {
        assert_eq!(duration_label(15), "15 Minuten");
        assert_eq!(duration_label(30), "30 Minuten");
        assert_eq!(duration_label(60), "1 Stunde");
        assert_eq!(duration_label(90), "1 Stunde 30 Minuten");
        assert_eq!(duration_label(120), "2 Stunden");
        assert_eq!(duration_label(125), "2 Stunden 5 Minuten");
    }
}
