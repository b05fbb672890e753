//! What a service needs in each portal offering it: state and federal services link to
//! their own online service; an application form goes to an office; a fee is paid
//! with the online application, through the portal's payment provider.

use lotse_model::Provider;

use crate::diagnostics::{Diagnostics, Loc};

use super::Input;

pub(super) fn check(input: &Input<'_>, diags: &Diagnostics) {
    for portal in &input.portals {
        // A table that was written but is invalid is reported where it is; it still
        // counts as set here, so that paid services do not repeat the problem.
        let has_provider = portal.loaded.config.payment_loc.is_some()
            || input.content.region_payment_loc.is_some();
        for entry in &portal.layers.entries {
            if let Some(payment) = entry.pick(|d| d.payment.as_ref()) {
                let kind = entry
                    .pick(|d| d.provider.as_ref())
                    .map_or(Provider::Kommune, |p| p.value);
                if kind.is_external() {
                    diags.error(
                        payment.loc.clone(),
                        "state and federal services are paid at their own online service; remove `[payment]`",
                    );
                } else if entry.pick(|d| d.form.as_ref()).is_none() {
                    diags.error(
                        payment.loc.clone(),
                        "a service with `[payment]` needs a `[form]`: the fee is paid at the end of the online application",
                    );
                } else if !has_provider {
                    let slug = &portal.loaded.config.portal.slug;
                    diags.error(
                        payment.loc.clone(),
                        format!(
                            "portal `{slug}` offers this service with a fee but has no payment provider: set `[payment]` in its portal.toml, or for all portals in region.toml"
                        ),
                    );
                }
            }
            let provider = entry.pick(|d| d.provider.as_ref());
            let kind = provider.map_or(Provider::Kommune, |p| p.value);
            let form = entry.pick(|d| d.form.as_ref());
            if kind.is_external() {
                if entry.pick(|d| d.url.as_ref()).is_none() {
                    let at =
                        provider.map_or_else(|| Loc::file_start(entry.path()), |p| p.loc.clone());
                    diags.error(
                        at,
                        format!(
                            "a `{}` service needs `url`, the address of its online service",
                            kind.as_str()
                        ),
                    );
                }
                if let Some(form) = form {
                    diags.error(
                        form.loc.clone(),
                        "state and federal services link to their own online service; remove `[form]`",
                    );
                }
            } else if let Some(form) = form {
                if entry.pick(|d| d.office.as_ref()).is_none() {
                    diags.error(
                        form.loc.clone(),
                        "a service with `[form]` needs `office`, the office its applications go to",
                    );
                }
            }
        }
    }
}
