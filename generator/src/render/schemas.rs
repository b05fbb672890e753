//! What the functions check an application or a booking against. The static site is
//! the functions' only source of truth about forms and offices, so the generator
//! writes these assets (`forms/…`, `appointments/…`) next to the pages, and `check`
//! asks the same functions which addresses a build will write.

use lotse_model::appointment::{AppointmentPlan, BookableService};
use lotse_model::{FormSchema, Portal};

use crate::resolve::{Page, ResolvedService};

/// The schema the functions validate applications against; `None` for services
/// without a form (or whose office cannot receive one, or whose fee has no payment
/// provider in this portal, which `check` reports).
pub fn form_schema(portal: &Portal, s: &ResolvedService) -> Option<FormSchema> {
    let svc = &s.service;
    let form = svc.form.as_ref()?;
    let fee = match &svc.payment {
        Some(payment) => Some(payment.fee(portal.payment.as_ref()?)),
        None => None,
    };
    let schema = schema(
        portal,
        &svc.slug,
        &svc.title,
        svc.office.as_deref()?,
        svc.login,
        form,
    )?;
    Some(FormSchema { fee, ..schema })
}

/// What the functions need to book `s` in `portal` (`appointments/<portal>/<service>.json`):
/// `None` for a service without `appointment`, or whose office is missing or has no key
/// (which `check` reports).
pub fn bookable_service(
    portal: &Portal,
    s: &ResolvedService,
    horizon_weeks: u32,
) -> Option<BookableService> {
    let svc = &s.service;
    let appointment = svc.appointment?;
    let office = portal.office(svc.office.as_deref()?)?;
    Some(BookableService {
        portal: portal.slug.clone(),
        portal_name: portal.name.clone(),
        service: svc.slug.clone(),
        title: svc.title.clone(),
        office: office.id.clone(),
        office_name: office.name.clone(),
        office_address: office.address.clone(),
        public_key: office.public_key.clone()?,
        // The service's `login` is the trust level of applying online; booking a visit
        // needs none (logging in is offered, so the appointment shows in Mein
        // Postfach): those who come to the office are often the ones without an eID.
        login: lotse_model::TrustLevel::None,
        plan: AppointmentPlan {
            duration: appointment.duration,
            hours: office.appointments.clone(),
            horizon_weeks,
        },
    })
}

/// The schema of a page's form (the accessibility feedback), like a service's.
pub fn page_form_schema(portal: &Portal, page: &Page) -> Option<FormSchema> {
    let pf = page.form.as_ref()?;
    let no_login = lotse_model::TrustLevel::None;
    schema(
        portal, &page.slug, &pf.title, &pf.office, no_login, &pf.form,
    )
}

/// The form `id` of `portal`, sent to `office`, without a fee; `None` when that office
/// has no key.
fn schema(
    portal: &Portal,
    id: &str,
    title: &str,
    office: &str,
    login: lotse_model::TrustLevel,
    form: &lotse_model::Form,
) -> Option<FormSchema> {
    let office = portal.office(office)?;
    Some(FormSchema {
        portal: portal.slug.clone(),
        service: id.to_string(),
        title: title.to_string(),
        office: office.id.clone(),
        public_key: office.public_key.clone()?,
        login,
        fields: form.fields.clone(),
        fee: None,
    })
}
