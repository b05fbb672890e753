//! The citizen's side of the conversation on an application (SPEC section 6): read the
//! thread, write to the office, send documents later, download what the office sent.
//!
//! The citizen is recognised by the application's token (a bearer header from API
//! clients; a hidden form field or the sealed conversation cookie from the status
//! page), or by a session whose account the application is linked to. Either way the
//! edge gets the application's citizen key for the request only, opens the messages
//! for the answer, and forgets it.

use lotse_envelope::message::{
    open_attachment, open_message, seal_message, MessageContent, MessageEnvelope, MessageRouting,
    NewAttachment,
};
use lotse_envelope::{PrivateKey, PublicKey};
use serde_json::{json, Value};

use super::guard;
use super::submit::wants_html;
use super::{bearer, error, App, Config, Forms};
use crate::auth::{cookie_value, open_cookie, seal_cookie, HttpClient};
use crate::conversation::{self, Document, Refusal};
use crate::http::{Request, Response};
use crate::ids::{new_object_id, normalize_id, token_matches};
use crate::store::{
    OutboxEntry, StatusEntry, Store, StoredApplication, StoredAttachment, StoredMessage,
};
use crate::thread_page;
use crate::time::rfc3339_ms;

/// How long the conversation cookie opens the thread after the last page of it.
const THREAD_TTL_MS: u64 = 30 * 60 * 1000;

/// An application the citizen has shown to be theirs, with its citizen key (`None`
/// only for a logged-in citizen's application stored before the conversation existed).
pub(crate) struct Opened {
    pub application: StoredApplication,
    pub key: Option<PrivateKey>,
    /// The token, when that is how the citizen came: the reply form carries it on.
    pub token: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ThreadCookie {
    id: String,
    token: String,
}

fn thread_cookie_name(id: &str) -> String {
    format!("lotse_vorgang_{}", id.replace('-', ""))
}

/// The sealed cookie that lets the status page's forms and the 303 after a reply open
/// the thread without the token in any address (`Path=/api/`, HttpOnly, SameSite=Strict).
pub(crate) fn thread_cookie(config: &Config, now_ms: u64, id: &str, token: &str) -> String {
    let name = thread_cookie_name(id);
    let sealed = seal_cookie(
        &name,
        &ThreadCookie {
            id: id.into(),
            token: token.into(),
        },
        &config.receipt_keys,
        now_ms,
        THREAD_TTL_MS,
    );
    format!(
        "{name}={sealed}; Path=/api/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        THREAD_TTL_MS / 1000
    )
}

pub(crate) fn not_found() -> Response {
    error(
        404,
        "not_found",
        "Zu dieser Vorgangsnummer und diesem Schlüssel gibt es keinen Antrag.",
    )
}

/// The application `id` if the request shows it is the citizen's: by token (header,
/// `form_token`, conversation cookie) or by session. `Ok(None)` for an unknown id and
/// for wrong credentials alike.
pub(crate) async fn open_for_citizen<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
    form_token: Option<&str>,
) -> Result<Option<Opened>, Response> {
    let Some(id) = normalize_id(id) else {
        return Ok(None);
    };
    let cookie_token = request
        .header("cookie")
        .and_then(|header| cookie_value(header, &thread_cookie_name(&id)))
        .and_then(|sealed| {
            open_cookie::<ThreadCookie>(
                &thread_cookie_name(&id),
                sealed,
                &app.config.receipt_keys,
                request.now_ms,
            )
        })
        .filter(|cookie| cookie.id == id)
        .map(|cookie| cookie.token);
    let tokens: Vec<String> = [bearer(request), form_token]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .chain(cookie_token)
        .collect();
    let session = super::login::current_session(app.config.login.as_ref(), request);
    if tokens.is_empty() && session.is_none() {
        return Ok(None);
    }
    let Some(application) = app.store.application(&id).await.map_err(|e| {
        guard::unavailable_because(UNREADABLE).logged(format!("conversation {id}: {e}"))
    })?
    else {
        return Ok(None);
    };
    if let Some(token) = tokens
        .into_iter()
        .find(|t| token_matches(t, &application.token_hash))
    {
        let key = conversation::citizen_key(&token, &application.id);
        if application.citizen_key.is_none() {
            // Stored before the conversation existed: the key is known from now on.
            let public = key.public_key().to_base64();
            app.store
                .set_citizen_key(&application.id, &public)
                .await
                .map_err(|e| {
                    guard::unavailable_because(UNREADABLE)
                        .logged(format!("conversation {}: {e}", application.id))
                })?;
        }
        return Ok(Some(Opened {
            application,
            key: Some(key),
            token: Some(token),
        }));
    }
    if let (Some(session), Some(setup)) = (session, &app.config.login) {
        let linked = application.account_hash.as_ref().is_some_and(|hash| {
            setup
                .accounts
                .account_hashes(&setup.keys, &session.sub)
                .contains(hash)
        });
        if linked {
            let key = application.citizen_key_wrapped.as_deref().and_then(|w| {
                conversation::unwrap_for_account(&setup.accounts, &session.sub, &application.id, w)
            });
            return Ok(Some(Opened {
                application,
                key,
                token: None,
            }));
        }
    }
    Ok(None)
}

const UNREADABLE: &str =
    "Die Nachrichten sind gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.";
const NOT_STORED: &str = "Der Dienst ist gerade nicht erreichbar. Ihre Nachricht wurde nicht gespeichert; bitte versuchen Sie es in einigen Minuten erneut.";

/// Whether the office wrote `message` after the citizen last opened the thread (`seen`,
/// empty for never).
pub(crate) fn is_new(message: &StoredMessage, seen: &str) -> bool {
    message.sender == "office" && message.at.as_str() > seen
}

/// One message as the citizen sees it.
pub(crate) struct ThreadEntry {
    pub id: String,
    pub from: String,
    pub at: String,
    /// `None`: the message does not open with the key at hand.
    pub content: Option<MessageContent>,
    /// Written by the office since the citizen last opened the thread.
    pub new: bool,
}

/// Opens a stored message with `key` as `recipient`, after checking it belongs where
/// its row says: a message envelope moved to another application does not open.
pub(crate) fn open_stored(
    application: &StoredApplication,
    message: &StoredMessage,
    recipient: &str,
    key: &PrivateKey,
) -> Option<(MessageEnvelope, MessageContent)> {
    let envelope = MessageEnvelope::from_json(&message.envelope).ok()?;
    let routing = &envelope.routing;
    let in_place = routing.application == application.id
        && routing.portal == application.portal
        && routing.office == application.office
        && routing.message == message.id
        && routing.from == message.sender;
    if !in_place {
        return None;
    }
    let content = open_message(&envelope, recipient, key).ok()?;
    Some((envelope, content))
}

/// The thread, oldest first, opened with the citizen key.
pub(crate) async fn thread<S: Store>(
    store: &S,
    opened: &Opened,
) -> Result<(Vec<ThreadEntry>, Vec<String>), Response> {
    let application = &opened.application;
    let messages = store.messages(&application.id).await.map_err(|e| {
        guard::unavailable_because(UNREADABLE)
            .logged(format!("conversation {}: {e}", application.id))
    })?;
    let seen = application.citizen_seen_at.as_deref().unwrap_or("");
    let mut log = Vec::new();
    let entries = messages
        .iter()
        .map(|message| {
            let content = opened
                .key
                .as_ref()
                .and_then(|key| open_stored(application, message, "citizen", key))
                .map(|(_, content)| content);
            if content.is_none() && opened.key.is_some() {
                log.push(format!(
                    "conversation {}: message {} does not open with the citizen key",
                    application.id, message.id
                ));
            }
            ThreadEntry {
                id: message.id.clone(),
                from: message.sender.clone(),
                at: message.at.clone(),
                content,
                new: is_new(message, seen),
            }
        })
        .collect();
    Ok((entries, log))
}

fn entry_json(entry: &ThreadEntry) -> Value {
    let mut value = json!({
        "id": entry.id,
        "from": entry.from,
        "at": entry.at,
        "new": entry.new,
    });
    match &entry.content {
        Some(content) => {
            value["text"] = json!(content.text);
            if let Some(status) = &content.status {
                value["status"] = json!(status);
            }
            value["attachments"] = content
                .attachments
                .iter()
                .map(|a| json!({"id": a.id, "name": a.name, "type": a.media_type, "size": a.size}))
                .collect();
        }
        None => {
            value["text"] = Value::Null;
            value["attachments"] = json!([]);
            value["unreadable"] = json!(true);
        }
    }
    value
}

/// `GET /api/applications/<id>/messages`.
pub async fn list<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let opened = match open_for_citizen(app, request, id, None).await {
        Ok(Some(opened)) => opened,
        Ok(None) => return not_found(),
        Err(response) => return response,
    };
    match thread(&app.store, &opened).await {
        Ok((entries, log)) => {
            let mut response = Response::json(
                200,
                &json!({
                    "id": opened.application.id,
                    "status": opened.application.status,
                    "messages": entries.iter().map(entry_json).collect::<Vec<_>>(),
                }),
            );
            response.log = log;
            response
        }
        Err(response) => response,
    }
}

/// `POST /api/applications/<id>/messages`: JSON `{"text"}`, or multipart with `text`
/// and `file` parts (from the status page: also `token`). 201 `{"id"}`, or for the
/// page's form 303 back to the thread; a refusal shows the thread again with the text.
pub async fn post<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let html = wants_html(request);
    let site = &app.config.site_name;
    let checks = guard::size_up_to(request, conversation::MESSAGE_BODY_LIMIT)
        .and_then(|_| guard::same_site(request));
    if let Err(response) = checks {
        return as_page(site, html, response);
    }
    let incoming = match conversation::read_body(request).await {
        Ok(incoming) => incoming,
        Err(refusal) => return as_page(site, html, refused(&refusal)),
    };
    let opened = match open_for_citizen(app, request, id, incoming.token.as_deref()).await {
        Ok(Some(opened)) => opened,
        Ok(None) => return as_page(site, html, not_found()),
        Err(response) => return as_page(site, html, response),
    };
    if incoming.status.is_some() {
        let refusal = error(
            400,
            "status_not_allowed",
            "Den Stand eines Antrags setzt nur die Behörde.",
        );
        return as_page(site, html, refusal);
    }
    let kept_text = incoming.text.clone();
    let outcome = match conversation::judge(incoming) {
        Err(refusal) => Err(refused(&refusal)),
        Ok((text, documents)) => match guard::rate(&app.store, &app.config, request).await {
            Err(response) => Err(response),
            Ok(()) => {
                let new = NewMessage {
                    from: "citizen",
                    text: &text,
                    status: None,
                    documents,
                    audit: None,
                };
                store_message(app, &opened.application, new, request).await
            }
        },
    };
    match (outcome, html) {
        (Ok(message_id), false) => Response::json(201, &json!({"id": message_id})),
        (Ok(_), true) => {
            let location = format!(
                "{}&gesendet=1",
                thread_page::location(&opened.application.id)
            );
            let response = Response::redirect(&location);
            match &opened.token {
                Some(token) => response.append_header(
                    "set-cookie",
                    &thread_cookie(&app.config, request.now_ms, &opened.application.id, token),
                ),
                None => response,
            }
        }
        (Err(response), false) => response,
        (Err(response), true) => {
            // The thread again, with the reason at the form and what was typed.
            let message = super::error_message(&response);
            let code = serde_json::from_slice::<Value>(&response.body)
                .ok()
                .and_then(|v| v.get("error")?.as_str().map(str::to_string))
                .unwrap_or_default();
            let problem = thread_page::Problem {
                message: &message,
                kept_text: &kept_text,
                about_files: conversation::is_about_files(&code),
            };
            match page(app, request, &opened, Some(problem), false).await {
                Ok(mut page) => {
                    page.status = response.status;
                    for (name, value) in &response.headers {
                        if name == "retry-after" {
                            page = page.with_header(name, value);
                        }
                    }
                    page.log.extend(response.log);
                    page
                }
                Err(response) => response,
            }
        }
    }
}

pub(crate) fn refused(refusal: &Refusal) -> Response {
    error(refusal.status, refusal.code, &refusal.message)
}

fn as_page(site: &str, html: bool, response: Response) -> Response {
    if html {
        crate::html::error_from_json(site, &response)
    } else {
        response
    }
}

/// The thread page: status, history, messages, the reply form; marks the thread seen.
pub(crate) async fn page<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    opened: &Opened,
    problem: Option<thread_page::Problem<'_>>,
    sent: bool,
) -> Result<Response, Response> {
    let history = app
        .store
        .history(&opened.application.id)
        .await
        .map_err(|e| {
            guard::unavailable_because(UNREADABLE)
                .logged(format!("conversation {}: {e}", opened.application.id))
        })?;
    let (entries, log) = thread(&app.store, opened).await?;
    let title = app
        .forms
        .schema(&opened.application.portal, &opened.application.service)
        .await
        .map(|s| s.title);
    let body = thread_page::render(&thread_page::Thread {
        site: &app.config.site_name,
        application: &opened.application,
        title: title.as_deref(),
        history: &history,
        entries: &entries,
        token: opened.token.as_deref(),
        problem,
        sent,
    });
    // Seen: what is new now is not new on the next visit. A failure to note it costs
    // only the marks, never the page.
    // The newest message shown, not the time of the request: one written meanwhile
    // stays new.
    let newest = entries.iter().map(|e| e.at.as_str()).max();
    let seen = match newest {
        Some(at) if Some(at) > opened.application.citizen_seen_at.as_deref() => {
            app.store.set_citizen_seen(&opened.application.id, at).await
        }
        _ => Ok(()),
    };
    let mut response = Response::html(200, body);
    response.log = log;
    if let Err(e) = seen {
        response.log.push(format!(
            "conversation {}: cannot note the visit: {e}",
            opened.application.id
        ));
    }
    Ok(match &opened.token {
        Some(token) => response.append_header(
            "set-cookie",
            &thread_cookie(&app.config, request.now_ms, &opened.application.id, token),
        ),
        None => response,
    })
}

/// `GET /api/vorgang?id=…`: the thread page, opened by the conversation cookie or the
/// session; without either, the status lookup form.
pub async fn page_html<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let site = &app.config.site_name;
    let id = request.query_param("id").unwrap_or_default();
    match open_for_citizen(app, request, &id, None).await {
        Ok(Some(opened)) => page(
            app,
            request,
            &opened,
            None,
            request.query_param("gesendet").as_deref() == Some("1"),
        )
        .await
        .unwrap_or_else(|response| crate::html::error_from_json(site, &response)),
        // A link from a notification mail comes without the cookie: the lookup form,
        // with the id filled in.
        Ok(None) => Response::html(
            200,
            crate::html::status_form_for(site, None, &normalize_id(&id).unwrap_or_default()),
        ),
        Err(response) => crate::html::error_from_json(site, &response),
    }
}

/// `GET /api/applications/<id>/attachments/<attachment>`: the file, opened.
pub async fn attachment<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
    attachment_id: &str,
) -> Response {
    let opened = match open_for_citizen(app, request, id, None).await {
        Ok(Some(opened)) => opened,
        Ok(None) => return not_found(),
        Err(response) => return response,
    };
    let Some(key) = &opened.key else {
        return not_found();
    };
    let missing = || error(404, "not_found", "Diese Datei gibt es nicht.");
    let application = &opened.application;
    let (row, messages) = match (
        app.store.attachment(&application.id, attachment_id).await,
        app.store.messages(&application.id).await,
    ) {
        (Ok(Some(row)), Ok(messages)) => (row, messages),
        (Ok(None), _) => return missing(),
        (Err(e), _) | (_, Err(e)) => {
            return guard::unavailable_because(UNREADABLE)
                .logged(format!("conversation {}: {e}", application.id))
        }
    };
    let Some((envelope, content)) = messages
        .iter()
        .find(|m| m.id == row.message_id)
        .and_then(|m| open_stored(application, m, "citizen", key))
    else {
        return missing();
    };
    let Some(meta) = content.attachments.iter().find(|a| a.id == row.id) else {
        return missing();
    };
    let sealed = match app.store.object(&row.object).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return guard::unavailable_because(UNREADABLE).logged(format!(
                "conversation {}: file {} is missing",
                application.id, row.id
            ))
        }
        Err(e) => {
            return guard::unavailable_because(UNREADABLE).logged(format!(
                "conversation {}: file {}: {e}",
                application.id, row.id
            ))
        }
    };
    match open_attachment(&envelope.routing, meta, &sealed) {
        Ok(bytes) => download(&meta.media_type, &meta.name, bytes.to_vec()),
        Err(_) => guard::unavailable_because(UNREADABLE).logged(format!(
            "conversation {}: file {} does not open",
            application.id, row.id
        )),
    }
}

/// A file as a download, never shown inline (its name as RFC 6266/5987 says).
pub(crate) fn download(media_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    Response::new(200, media_type, bytes).with_header(
        "content-disposition",
        &format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
    )
}

/// A message to store: who writes, what, with which status and files, and the audit
/// entry of a message from the office.
pub(crate) struct NewMessage<'a> {
    pub from: &'a str,
    pub text: &'a str,
    pub status: Option<&'a str>,
    pub documents: Vec<Document>,
    pub audit: Option<&'a crate::store::AuditEntry>,
}

/// Seals a message to the office and the citizen, stores its files and then its row
/// (with the status, if the office set one). Files stored for a message whose row is
/// not stored are deleted again. Returns the message id.
pub(crate) async fn store_message<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    application: &StoredApplication,
    new: NewMessage<'_>,
    request: &Request,
) -> Result<String, Response> {
    let NewMessage {
        from,
        text,
        status,
        documents,
        audit,
    } = new;
    let now_ms = request.now_ms;
    let id = &application.id;
    let office_key = app
        .forms
        .schema(&application.portal, &application.service)
        .await
        .and_then(|schema| PublicKey::from_base64(&schema.public_key).ok());
    let citizen_key = application
        .citizen_key
        .as_deref()
        .and_then(|key| PublicKey::from_base64(key).ok());
    let (Some(office_key), Some(citizen_key)) = (office_key, citizen_key) else {
        return Err(error(
            409,
            "conversation_unavailable",
            "Zu diesem Antrag können gerade keine Nachrichten geschrieben werden: Der Online-Antrag wurde entfernt, oder der Antrag stammt aus der Zeit vor den Nachrichten und wurde seither nicht mit Vorgangsnummer und Schlüssel geöffnet.",
        )
        .logged(format!("conversation {id}: no office or citizen key to seal to")));
    };
    let routing = MessageRouting {
        application: id.clone(),
        portal: application.portal.clone(),
        office: application.office.clone(),
        message: new_object_id(),
        from: from.to_string(),
        at: rfc3339_ms(now_ms),
    };
    let attachments: Vec<NewAttachment<'_>> = documents
        .iter()
        .map(|d| NewAttachment {
            id: new_object_id(),
            name: d.name.clone(),
            media_type: d.media_type.to_string(),
            bytes: &d.bytes,
        })
        .collect();
    let (envelope, sealed_files) = seal_message(
        routing.clone(),
        text,
        status,
        &attachments,
        &[("office", &office_key), ("citizen", &citizen_key)],
    )
    .map_err(|_| {
        guard::unavailable_because(NOT_STORED).logged(format!(
            "conversation {id}: the message could not be sealed"
        ))
    })?;
    let rows: Vec<StoredAttachment> = sealed_files
        .iter()
        .map(|file| StoredAttachment {
            id: file.id.clone(),
            application_id: id.clone(),
            message_id: routing.message.clone(),
            size: file.ciphertext.len() as u64,
            object: format!("{}/{}", id.replace('-', ""), file.id),
        })
        .collect();
    let mut stored = Vec::new();
    let mut failure = None;
    for (file, row) in sealed_files.iter().zip(&rows) {
        match app.store.put_object(&row.object, &file.ciphertext).await {
            Ok(()) => stored.push(row.object.clone()),
            Err(e) => {
                failure = Some(format!("file {}: {e}", row.id));
                break;
            }
        }
    }
    if failure.is_none() {
        let message = StoredMessage {
            id: routing.message.clone(),
            application_id: id.clone(),
            sender: from.to_string(),
            envelope: envelope.to_json(),
            at: routing.at.clone(),
        };
        let entry = status.map(|status| StatusEntry {
            status: status.to_string(),
            note: None,
            at: crate::time::rfc3339(now_ms),
        });
        // The office's messages are announced to a citizen who left an address.
        let notify = (from == "office").then(|| OutboxEntry {
            id: new_object_id(),
            application_id: id.clone(),
            origin: request.site_origin(),
            created_at: now_ms,
            attempts: 0,
            next_attempt_at: now_ms,
            // Copied from the application by the store, in the same statement.
            contact: None,
            kind: "message".into(),
        });
        match app
            .store
            .insert_message(&message, &rows, entry.as_ref(), notify.as_ref(), audit)
            .await
        {
            Ok(true) => return Ok(routing.message),
            Ok(false) => failure = Some("the application is gone".into()),
            Err(e) => failure = Some(e.to_string()),
        }
    }
    for object in stored {
        let _ = app.store.delete_object(&object).await;
    }
    Err(guard::unavailable_because(NOT_STORED).logged(format!(
        "conversation {id}: message not stored: {}",
        failure.unwrap_or_default()
    )))
}
