//! Regional and local layers: a local file either adds a service or overrides one with
//! `extends`; what resolution had to leave out, and overrides that change nothing.

use std::collections::HashSet;

use crate::diagnostics::{Diagnostics, Loc};
use crate::load::ServiceDraft;
use crate::resolve::layers::Rejection;

use super::Input;

pub(super) fn check(input: &Input<'_>, diags: &Diagnostics) {
    let mut offered: HashSet<*const ServiceDraft> = HashSet::new();
    for portal in &input.portals {
        let slug = &portal.loaded.config.portal.slug;
        for (local, why) in &portal.layers.rejected {
            let target = local.extends.as_ref().map(|t| t.loc.clone());
            match why {
                Rejection::SameSlug => diags.error(
                    Loc::file_start(&local.path),
                    format!(
                        "local service `{}` has the same slug as the regional service this portal offers; set `extends = \"{}\"` to override it",
                        local.slug, local.slug
                    ),
                ),
                Rejection::AlreadyOverridden(first) => diags.error(
                    target.unwrap_or_else(|| Loc::file_start(&local.path)),
                    format!(
                        "`{}` is already overridden in this portal at {first}",
                        extended(local)
                    ),
                ),
                Rejection::OverLocal(path) => diags.error(
                    target.unwrap_or_else(|| Loc::file_start(&local.path)),
                    format!(
                        "this override would publish `{}` at the address of the local service {path}; rename one of them",
                        extended(local)
                    ),
                ),
                Rejection::UnknownExtends => {} // a reference: references.rs
            }
        }
        for local in &portal.layers.clashing_names {
            diags.error(
                Loc::file_start(&local.path),
                format!(
                    "the file name `{}` clashes with another service of this portal",
                    local.slug
                ),
            );
        }
        for entry in &portal.layers.entries {
            offered.insert(entry.base);
            let Some(local) = entry.local else {
                continue;
            };
            let Some(target) = &local.extends else {
                continue;
            };
            if is_empty_override(local) {
                diags.warning(
                    target.loc.clone(),
                    "this override sets nothing but `extends`; the regional service is used unchanged",
                );
            }
            if portal.layers.added.iter().any(|a| std::ptr::eq(*a, local)) {
                diags.warning(
                    target.loc.clone(),
                    format!(
                        "`{}` does not list portal `{slug}` in `portals`; this override adds it here",
                        entry.base.slug
                    ),
                );
            }
        }
    }
    for draft in &input.content.services {
        if !offered.contains(&(draft as *const ServiceDraft)) {
            diags.warning(
                Loc::file_start(&draft.path),
                "no portal offers this service: set `portals` (e.g. `[\"*\"]` for all)",
            );
        }
    }
}

/// The slug an override extends (it exists: the override was not rejected for that).
fn extended(local: &ServiceDraft) -> &str {
    local.extends.as_ref().map_or(&local.slug, |t| &t.value)
}

fn is_empty_override(d: &ServiceDraft) -> bool {
    d.title.is_none()
        && d.summary.is_none()
        && d.categories.is_none()
        && d.office.is_none()
        && d.provider.is_none()
        && d.url.is_none()
        && d.leika.is_none()
        && d.keywords.is_none()
        && d.documents.is_none()
        && d.fees.is_none()
        && d.deadlines.is_none()
        && d.legal_basis.is_none()
        && d.processing_time.is_none()
        && d.login.is_none()
        && d.form.is_none()
        && d.payment.is_none()
        && d.appointment.is_none()
        && d.aliases.is_none()
        && d.body.is_none()
}
