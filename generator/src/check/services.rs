//! What a service needs in each portal offering it: state and federal services link to
//! their own online service; an application form goes to an office.

use lotse_model::Provider;

use crate::diagnostics::{Diagnostics, Loc};

use super::Input;

pub(super) fn check(input: &Input<'_>, diags: &Diagnostics) {
    for portal in &input.portals {
        for entry in &portal.layers.entries {
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
