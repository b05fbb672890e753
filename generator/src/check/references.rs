//! References between files: categories, the portals a regional service lists,
//! `extends`, offices (and their keys), region.toml's `feedback_portal`.

use std::collections::HashSet;

use crate::diagnostics::{hint, Diagnostics};
use crate::load::ServiceDraft;
use crate::resolve::layers::Rejection;

use super::Input;

pub(super) fn check(input: &Input<'_>, diags: &Diagnostics) {
    let content = input.content;
    let categories: HashSet<&str> = content
        .categories
        .iter()
        .map(|(c, _)| c.id.as_str())
        .collect();
    let portals: Vec<&str> = content
        .portals
        .iter()
        .map(|p| p.config.portal.slug.as_str())
        .collect();
    for draft in &content.services {
        check_categories(draft, &categories, diags);
        check_portal_list(draft, &portals, diags);
    }
    let regional: Vec<&str> = content.services.iter().map(|s| s.slug.as_str()).collect();
    for portal in &input.portals {
        for local in &portal.loaded.services {
            check_categories(local, &categories, diags);
        }
        for (local, why) in &portal.layers.rejected {
            if let (Rejection::UnknownExtends, Some(target)) = (why, &local.extends) {
                diags.error(
                    target.loc.clone(),
                    format!(
                        "`extends` names `{}`, but there is no regional service of that slug{}",
                        target.value,
                        hint(&target.value, &regional)
                    ),
                );
            }
        }
        check_offices(portal, diags);
    }
    check_feedback_portal(input, &portals, diags);
}

fn check_categories(draft: &ServiceDraft, known: &HashSet<&str>, diags: &Diagnostics) {
    for category in draft.categories.iter().flatten() {
        if !known.contains(category.value.as_str()) {
            let names: Vec<&str> = known.iter().copied().collect();
            diags.error(
                category.loc.clone(),
                format!(
                    "unknown category `{}`: not defined in categories.toml{}",
                    category.value,
                    hint(&category.value, &names)
                ),
            );
        }
    }
}

fn check_portal_list(draft: &ServiceDraft, portals: &[&str], diags: &Diagnostics) {
    for entry in draft.portals.iter().flatten() {
        if entry.value != "*" && !portals.contains(&entry.value.as_str()) {
            diags.error(
                entry.loc.clone(),
                format!(
                    "unknown portal `{}`: there is no content/portals/{}/portal.toml{}",
                    entry.value,
                    entry.value,
                    hint(&entry.value, portals)
                ),
            );
        }
    }
}

/// The office of every service a portal offers must exist there, and receive
/// applications (and bookings) encrypted when the service has a form (or appointments).
fn check_offices(portal: &super::PortalInput<'_>, diags: &Diagnostics) {
    let loaded = portal.loaded;
    let config = &loaded.config.portal;
    for entry in &portal.layers.entries {
        let Some(office) = entry.pick(|d| d.office.as_ref()) else {
            continue;
        };
        match config.office(&office.value) {
            None => {
                let names: Vec<&str> = config.offices.iter().map(|o| o.id.as_str()).collect();
                diags.error(
                    office.loc.clone(),
                    format!(
                        "office `{}` does not exist in portal `{}`, which offers this service{}",
                        office.value,
                        config.slug,
                        hint(&office.value, &names)
                    ),
                );
            }
            Some(found) if found.public_key.is_none() => {
                let at = loaded
                    .config
                    .office_locs
                    .get(&found.id)
                    .cloned()
                    .unwrap_or_else(|| loaded.loc.clone());
                if entry.pick(|d| d.form.as_ref()).is_some() {
                    diags.error(
                        at,
                        format!(
                            "office `{}` receives applications for `{}` but has no `public_key` to encrypt them to (create one with `lotse keys new`)",
                            found.id, entry.base.slug
                        ),
                    );
                } else if entry.pick(|d| d.appointment.as_ref()).is_some() {
                    diags.error(
                        at,
                        format!(
                            "office `{}` takes appointments for `{}` but has no `public_key` to encrypt the citizens' names to (create one with `lotse keys new`)",
                            found.id, entry.base.slug
                        ),
                    );
                }
            }
            Some(_) => {}
        }
    }
}

fn check_feedback_portal(input: &Input<'_>, portals: &[&str], diags: &Diagnostics) {
    let Some(slug) = &input.site.region.feedback_portal else {
        return;
    };
    if portals.contains(&slug.as_str()) {
        return;
    }
    if let Some(loc) = &input.content.feedback_portal_loc {
        diags.error(
            loc.clone(),
            format!(
                "`feedback_portal` names no portal: `{slug}`{}",
                hint(slug, portals)
            ),
        );
    }
}
