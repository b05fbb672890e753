//! Who asks the office API: a machine with the office's bearer token, or a caseworker
//! with a staff session (SPEC section 9), and which offices that opens. Every change
//! they make is recorded in the audit log under the name this gives them.

use super::guard;
use super::{bearer, error, App, Forms, OfficeScope};
use crate::auth::staff::StaffSession;
use crate::auth::HttpClient;
use crate::http::{Request, Response};
use crate::store::{AuditEntry, Store};
use crate::time::rfc3339;

/// Who is acting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Actor {
    /// The office's bearer token (`lotse inbox`, a Fachverfahren).
    Token,
    /// A caseworker logged in to the workspace.
    Staff(StaffSession),
}

/// What a request to the office API may open, and on whose behalf.
#[derive(Debug)]
pub(crate) struct OfficeAccess {
    pub scope: OfficeScope,
    pub actor: Actor,
}

impl OfficeAccess {
    pub fn covers(&self, portal: &str, office: &str) -> bool {
        self.scope.covers(portal, office)
    }

    pub fn is_staff(&self) -> bool {
        matches!(self.actor, Actor::Staff(_))
    }

    /// The audit entry of `action` on an application of `portal`/`office`.
    pub fn audit(
        &self,
        portal: &str,
        office: &str,
        application: &str,
        action: &str,
        detail: Option<String>,
        now_ms: u64,
    ) -> AuditEntry {
        let (actor, actor_id, actor_name) = match &self.actor {
            Actor::Token => ("token", None, None),
            Actor::Staff(s) => ("staff", Some(s.sub.clone()), Some(s.name.clone())),
        };
        AuditEntry {
            seq: 0,
            portal: portal.to_string(),
            office: office.to_string(),
            application_id: application.to_string(),
            actor: actor.to_string(),
            actor_id,
            actor_name,
            action: action.to_string(),
            detail,
            at: rfc3339(now_ms),
        }
    }
}

pub(crate) fn unauthorized() -> Response {
    error(
        401,
        "unauthorized",
        "Bitte melden Sie sich an: am Arbeitsplatz oder mit dem Zugangsschlüssel Ihrer Dienststelle.",
    )
    .with_header("www-authenticate", "Bearer")
}

/// The staff session of a request, when staff login is configured and its cookie opens.
pub(crate) fn staff_session<S, F, H>(
    app: &App<S, F, H>,
    request: &Request,
) -> Option<StaffSession> {
    let login = app.config.staff_login.as_ref()?;
    StaffSession::from_cookie_header(request.header("cookie"), &login.keys, request.now_ms)
}

/// The access of a request: its bearer token if it sends one (a wrong token is 401,
/// whatever cookie comes with it), else its staff session. A staff request that changes
/// something must come from the site itself: the cookie is SameSite=Strict, and the
/// origin is checked as well.
pub(crate) fn office_access<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Result<OfficeAccess, Response> {
    if request.header("authorization").is_some() {
        return bearer(request)
            .and_then(|token| app.config.office_tokens.scope(token))
            .map(|scope| OfficeAccess {
                scope,
                actor: Actor::Token,
            })
            .ok_or_else(unauthorized);
    }
    let session = staff_session(app, request).ok_or_else(unauthorized)?;
    if !matches!(request.method.as_str(), "GET" | "HEAD") {
        guard::same_site(request)?;
    }
    Ok(OfficeAccess {
        scope: OfficeScope::Offices(session.offices.clone()),
        actor: Actor::Staff(session),
    })
}
