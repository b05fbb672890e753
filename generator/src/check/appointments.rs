//! Appointments (SPEC sections 2 and 8): a service with `appointment` is booked at its
//! office in each portal offering it, so that office needs opening hours in which the
//! appointment fits (its public key is checked with the other office rules in
//! `references.rs`).

use lotse_model::appointment::longest_opening;

use crate::diagnostics::Diagnostics;

use super::Input;

pub(super) fn check(input: &Input<'_>, diags: &Diagnostics) {
    for portal in &input.portals {
        let config = &portal.loaded.config.portal;
        for entry in &portal.layers.entries {
            let Some(appointment) = entry.pick(|d| d.appointment.as_ref()) else {
                continue;
            };
            let Some(office_id) = entry.pick(|d| d.office.as_ref()) else {
                diags.error(
                    appointment.loc.clone(),
                    "a service with `appointment` needs `office`, the office where citizens come to the appointment",
                );
                continue;
            };
            // An unknown office is reported in references.rs.
            let Some(office) = config.office(&office_id.value) else {
                continue;
            };
            let openings = &office.appointments.opening;
            if openings.is_empty() {
                diags.error(
                    appointment.loc.clone(),
                    format!(
                        "office `{}` of portal `{}` has no opening hours for appointments: give it `[[offices.opening]]` in its portal.toml",
                        office.id, config.slug
                    ),
                );
                continue;
            }
            let Some(duration) = &appointment.value.duration else {
                continue;
            };
            let longest = longest_opening(openings);
            if duration.value > longest {
                diags.error(
                    duration.loc.clone(),
                    format!(
                        "an appointment of {} minutes fits in no opening of office `{}` of portal `{}`; its longest is {longest} minutes",
                        duration.value, office.id, config.slug
                    ),
                );
            }
        }
    }
}
