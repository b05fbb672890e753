//! The office's side of the conversation (SPEC section 6): list the thread as sealed
//! envelopes (the office opens them in city hall with `lotse inbox`), write to the
//! citizen with files and a status, fetch a sealed file, delete an application.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};

use super::guard;
use super::messages::{refused, store_message, NewMessage};
use super::office::office_application;
use super::{error, App, Forms};
use crate::auth::HttpClient;
use crate::conversation;
use crate::http::{Request, Response};
use crate::store::{Store, StoredApplication};
use crate::STATUSES;

/// Sealed files listed inline up to this many bytes in all (a third more as base64,
/// copied again into JavaScript); later ones by address, so that a long thread never
/// has to fit into one answer (Workers have 128 MB).
const INLINE_LIMIT: usize = 4 * 1024 * 1024;

/// `GET /api/office/applications/<id>/messages`.
pub async fn list<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let (access, application) = match office_application(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let (entries, log) = match sealed_thread(app, &application, access.is_staff()).await {
        Ok(thread) => thread,
        Err(response) => return response,
    };
    let mut response = Response::json(
        200,
        &json!({
            "id": application.id,
            "portal": application.portal,
            "service": application.service,
            "office": application.office,
            "status": application.status,
            "messages": entries,
        }),
    );
    response.log = log;
    response
}

/// The conversation as sealed envelopes with their files, and lines for the log. A
/// caseworker (`by_address`) fetches each file by its address, so that every download
/// by staff is recorded; machines get them inline up to [`INLINE_LIMIT`].
pub(super) async fn sealed_thread<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    application: &StoredApplication,
    by_address: bool,
) -> Result<(Vec<Value>, Vec<String>), Response> {
    let inline_limit = if by_address { 0 } else { INLINE_LIMIT };
    let unavailable = |e: crate::StoreError| {
        guard::unavailable_because("Die Nachrichten sind gerade nicht erreichbar.")
            .logged(format!("office conversation {}: {e}", application.id))
    };
    let messages = app
        .store
        .messages(&application.id)
        .await
        .map_err(unavailable)?;
    let attachments = app
        .store
        .attachments(&application.id)
        .await
        .map_err(unavailable)?;
    let mut inline_left = inline_limit;
    let mut log = Vec::new();
    let mut entries = Vec::with_capacity(messages.len());
    for message in &messages {
        let Ok(Value::Object(mut entry)) = serde_json::from_str::<Value>(&message.envelope) else {
            log.push(format!(
                "office conversation {}: message {} is no envelope",
                application.id, message.id
            ));
            entries.push(
                json!({"message": message.id, "from": message.sender, "at": message.at,
                "unreadable": "the stored message is not a JSON object"}),
            );
            continue;
        };
        let mut files = Vec::new();
        for row in attachments.iter().filter(|a| a.message_id == message.id) {
            let href = format!(
                "/api/office/applications/{}/attachments/{}",
                application.id, row.id
            );
            if inline_limit == 0 || (row.size as usize) > inline_left {
                files.push(json!({"id": row.id, "size": row.size, "href": href}));
                continue;
            }
            match app.store.object(&row.object).await {
                Ok(Some(bytes)) => {
                    inline_left = inline_left.saturating_sub(bytes.len());
                    files.push(
                        json!({"id": row.id, "size": row.size, "ciphertext": BASE64.encode(bytes)}),
                    );
                }
                Ok(None) => {
                    log.push(format!(
                        "office conversation {}: file {} is missing",
                        application.id, row.id
                    ));
                    files.push(json!({"id": row.id, "unreadable": "the sealed file is missing"}));
                }
                Err(e) => return Err(unavailable(e)),
            }
        }
        entry.insert("attachments".into(), Value::Array(files));
        entries.push(Value::Object(entry));
    }
    Ok((entries, log))
}

/// `POST /api/office/applications/<id>/messages`: JSON `{"text", "status"}` or
/// multipart with `text`, `status` and `file` parts. 201 `{"id", "status"}`.
pub async fn post<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let (access, application) = match office_application(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Err(response) = guard::size_up_to(request, conversation::MESSAGE_BODY_LIMIT) {
        return response;
    }
    let incoming = match conversation::read_body(request).await {
        Ok(incoming) => incoming,
        Err(refusal) => return refused(&refusal),
    };
    let status = incoming.status.clone();
    if let Some(status) = &status {
        if !STATUSES.contains(&status.as_str()) {
            return error(
                400,
                "invalid_status",
                &format!("Erlaubte Status: {}.", STATUSES.join(", ")),
            );
        }
    }
    let (text, documents) = match conversation::judge(incoming) {
        Ok(judged) => judged,
        Err(refusal) => return refused(&refusal),
    };
    // The number of files and the status, never the text or a file's name.
    let detail = match &status {
        Some(status) => format!("{} Dateien, Status {status}", documents.len()),
        None => format!("{} Dateien", documents.len()),
    };
    let audit = access.audit(
        &application.portal,
        &application.office,
        &application.id,
        "message",
        Some(detail),
        request.now_ms,
    );
    let new = NewMessage {
        from: "office",
        text: &text,
        status: status.as_deref(),
        documents,
        audit: Some(&audit),
    };
    match store_message(app, &application, new, request).await {
        Ok(message) => Response::json(
            201,
            &json!({"id": message, "status": status.unwrap_or(application.status)}),
        ),
        Err(response) => response,
    }
}

/// `GET /api/office/applications/<id>/attachments/<attachment>`: the sealed bytes.
pub async fn attachment<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
    attachment_id: &str,
) -> Response {
    let (access, application) = match office_application(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let missing = || error(404, "not_found", "Diese Datei gibt es nicht.");
    let unreachable = |e: crate::StoreError| {
        guard::unavailable_because("Die Datei ist gerade nicht erreichbar.")
            .logged(format!("office conversation {}: {e}", application.id))
    };
    let row = match app.store.attachment(&application.id, attachment_id).await {
        Ok(Some(row)) => row,
        Ok(None) => return missing(),
        Err(e) => return unreachable(e),
    };
    // No record, no file.
    let audit = access.audit(
        &application.portal,
        &application.office,
        &application.id,
        "download",
        Some(row.id.clone()),
        request.now_ms,
    );
    if let Err(e) = app.store.record_audit(&audit).await {
        return unreachable(e);
    }
    match app.store.object(&row.object).await {
        Ok(Some(bytes)) => Response::new(200, "application/octet-stream", bytes),
        Ok(None) => missing().logged(format!(
            "office conversation {}: file {} is missing",
            application.id, row.id
        )),
        Err(e) => {
            guard::unavailable_because("Die Datei ist gerade nicht erreichbar.").logged(format!(
                "office conversation {}: file {}: {e}",
                application.id, row.id
            ))
        }
    }
}

/// `DELETE /api/office/applications/<id>`: the application with its history, messages
/// and files. The files go first: a failure leaves the rows, and the delete can be
/// repeated; nothing is left that nobody could find again.
pub async fn delete<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let (access, application) = match office_application(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let failed = |e: crate::StoreError| {
        guard::unavailable_because(
            "Der Antrag konnte gerade nicht gelöscht werden; bitte versuchen Sie es erneut.",
        )
        .logged(format!("office delete {}: {e}", application.id))
    };
    let rows = match app.store.attachments(&application.id).await {
        Ok(rows) => rows,
        Err(e) => return failed(e),
    };
    for row in &rows {
        if let Err(e) = app.store.delete_object(&row.object).await {
            return failed(e);
        }
    }
    let audit = access.audit(
        &application.portal,
        &application.office,
        &application.id,
        "delete",
        None,
        request.now_ms,
    );
    match app
        .store
        .delete_application(&application.id, Some(&audit))
        .await
    {
        Ok(()) => Response::new(204, "text/plain; charset=utf-8", Vec::new()),
        Err(e) => failed(e),
    }
}
