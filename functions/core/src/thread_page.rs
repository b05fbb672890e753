//! The conversation page of an application (`/api/vorgang`): status, history, the
//! messages oldest first with what is new marked, and the reply form with file upload.
//! Plain HTML: it works without JavaScript (a multipart form) and by keyboard alone.

use std::fmt::Write as _;

use crate::api::ThreadEntry;
use crate::conversation::{FILES_LIMIT, FILE_LIMIT, TEXT_LIMIT};
use crate::html::{escape, shell_for};
use crate::status_label;
use crate::store::{StatusEntry, StoredApplication};

/// Where the thread page of an application is.
pub fn location(id: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("id", id)
        .finish();
    format!("/api/vorgang?{query}")
}

pub struct Thread<'a> {
    pub site: &'a str,
    pub application: &'a StoredApplication,
    /// The service's title, when its form still exists.
    pub title: Option<&'a str>,
    pub history: &'a [StatusEntry],
    pub entries: &'a [ThreadEntry],
    /// The citizen's token, carried on by the reply form when the citizen came with it.
    pub token: Option<&'a str>,
    /// A refused reply: the reason, the text that was typed, and which field it is about.
    pub problem: Option<Problem<'a>>,
    /// The citizen's message was just sent (the 303 after the reply form).
    pub sent: bool,
}

/// Why a reply was refused, for the error summary and the field it names.
#[derive(Clone, Copy)]
pub struct Problem<'a> {
    pub message: &'a str,
    pub kept_text: &'a str,
    /// The files were the trouble (type, size, count), not the text.
    pub about_files: bool,
}

/// `2026-12-01T10:00:00.123Z` as citizens in Germany read it: `01.12.2026, 11:00 Uhr`.
fn when(at: &str) -> String {
    crate::time::german_local(at).unwrap_or_else(|| at.to_string())
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn kind(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "PDF",
        "image/png" => "PNG",
        "image/jpeg" => "JPEG",
        _ => "Datei",
    }
}

/// The text as paragraphs: blank lines part them, single line breaks stay.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>\n")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn message_html(out: &mut String, application_id: &str, entry: &ThreadEntry) {
    let (who, class) = match entry.from.as_str() {
        "office" => ("Ihre Behörde", "nachricht--behoerde"),
        _ => ("Sie", "nachricht--buerger"),
    };
    let new = if entry.new {
        "<strong class=\"nachricht__neu\">Neu</strong> "
    } else {
        ""
    };
    let _ = write!(
        out,
        "<li class=\"nachricht {class}\" id=\"nachricht-{id}\">\n<article aria-labelledby=\"kopf-{id}\">\n<h3 class=\"nachricht__kopf\" id=\"kopf-{id}\">{new}{who} <span class=\"nachricht__zeit\">am <time datetime=\"{at}\">{shown}</time></span></h3>\n",
        id = escape(&entry.id),
        at = escape(&entry.at),
        shown = escape(&when(&entry.at)),
    );
    match &entry.content {
        None => out.push_str("<p><em>Diese Nachricht lässt sich hier nicht öffnen. Öffnen Sie den Antrag mit Vorgangsnummer und Schlüssel.</em></p>\n"),
        Some(content) => {
            if let Some(status) = &content.status {
                let _ = writeln!(
                    out,
                    "<p class=\"nachricht__status\">Neuer Stand: <strong>{}</strong></p>",
                    escape(status_label(status))
                );
            }
            out.push_str(&paragraphs(&content.text));
            out.push('\n');
            if !content.attachments.is_empty() {
                out.push_str("<ul class=\"anhaenge\" aria-label=\"Anhänge\">\n");
                for file in &content.attachments {
                    let _ = writeln!(
                        out,
                        "<li><a href=\"/api/applications/{app}/attachments/{file_id}\" download>{name}</a> ({kind}, {size})</li>",
                        app = escape(application_id),
                        file_id = escape(&file.id),
                        name = escape(&file.name),
                        kind = kind(&file.media_type),
                        size = size(file.size),
                    );
                }
                out.push_str("</ul>\n");
            }
        }
    }
    out.push_str("</article>\n</li>\n");
}

pub fn render(thread: &Thread<'_>) -> String {
    let application = thread.application;
    let id = escape(&application.id);
    let mut main = String::new();
    let _ = writeln!(
        main,
        "<h1>Ihr Antrag {id}</h1>\n<p class=\"vorspann\">{what}eingegangen am {created}</p>\n<p class=\"status status--{class}\">Aktueller Stand: <strong>{status}</strong></p>",
        what = thread
            .title
            .map(|t| format!("{} · ", escape(t)))
            .unwrap_or_default(),
        created = escape(&when(&application.created_at)),
        class = escape(&application.status),
        status = escape(status_label(&application.status)),
    );
    if application.status == "needs_info" {
        main.push_str("<div class=\"hinweis\" role=\"note\"><p>Die Behörde hat eine Rückfrage an Sie. Bitte antworten Sie unten und senden Sie fehlende Unterlagen mit.</p></div>\n");
    }
    let new_count = thread.entries.iter().filter(|e| e.new).count();
    let _ = writeln!(
        main,
        "<section aria-labelledby=\"nachrichten\">\n<h2 id=\"nachrichten\">Nachrichten</h2>"
    );
    if thread.entries.is_empty() {
        main.push_str("<p>Noch keine Nachrichten. Hier erscheinen Rückfragen und Antworten der Behörde; Sie können ihr auch selbst schreiben.</p>\n");
    } else {
        let _ = writeln!(
            main,
            "<p>{}{}.</p>\n<ol class=\"nachrichten\">",
            match thread.entries.len() {
                1 => "Eine Nachricht".to_string(),
                n => format!("{n} Nachrichten, die älteste zuerst"),
            },
            match new_count {
                0 => String::new(),
                1 => ", davon eine neu seit Ihrem letzten Besuch".to_string(),
                n => format!(", davon {n} neu seit Ihrem letzten Besuch"),
            }
        );
        for entry in thread.entries {
            message_html(&mut main, &application.id, entry);
        }
        main.push_str("</ol>\n");
    }
    main.push_str("</section>\n");
    reply_form(&mut main, thread);
    history_table(&mut main, thread.history);
    // A refused reply says so in the title too, the first thing a screen reader reads
    // on the new page (as the form with errors does: "Fehler: …").
    let title = match thread.problem {
        Some(_) => format!("Fehler: Ihr Antrag {}", application.id),
        None => format!("Ihr Antrag {}", application.id),
    };
    shell_for(thread.site, Some(&application.portal), &title, &main)
}

fn reply_form(main: &mut String, thread: &Thread<'_>) {
    let id = escape(&thread.application.id);
    let _ = writeln!(
        main,
        "<section aria-labelledby=\"antworten\">\n<h2 id=\"antworten\">Nachricht an die Behörde</h2>"
    );
    if thread.sent {
        main.push_str("<div class=\"hinweis hinweis--erfolg\" role=\"status\"><p>Ihre Nachricht wurde verschlüsselt an die Behörde gesendet. Sie steht jetzt als letzte in den Nachrichten.</p></div>\n");
    }
    let target = match thread.problem {
        Some(p) if p.about_files => "nachricht-dateien",
        _ => "nachricht-text",
    };
    if let Some(problem) = thread.problem {
        let _ = writeln!(
            main,
            "<div id=\"fehler\" class=\"fehlerliste\" role=\"alert\" tabindex=\"-1\" aria-labelledby=\"fehler-titel\">\n<h3 id=\"fehler-titel\">Ihre Nachricht wurde nicht gesendet</h3>\n<ul><li><a href=\"#{target}\">{}</a></li></ul>\n<p>Ihr Text steht noch im Feld. Dateien wählen Sie bitte erneut aus: Der Browser behält sie aus Sicherheitsgründen nicht.</p>\n</div>",
            escape(problem.message)
        );
    }
    let kept = thread.problem.map_or("", |p| p.kept_text);
    // The field the refusal is about is marked invalid and described by the message.
    let marks = |field: &str| -> (&'static str, &'static str) {
        match thread.problem {
            Some(_) if field == target => (" aria-invalid=\"true\"", " fehler"),
            _ => ("", ""),
        }
    };
    let (text_invalid, text_error) = marks("nachricht-text");
    let (files_invalid, files_error) = marks("nachricht-dateien");
    let _ = writeln!(
        main,
        "<form method=\"post\" action=\"/api/applications/{id}/messages\" enctype=\"multipart/form-data\" class=\"formular\">"
    );
    if let Some(token) = thread.token {
        let _ = writeln!(
            main,
            "<input type=\"hidden\" name=\"token\" value=\"{}\">",
            escape(token)
        );
    }
    let _ = writeln!(
        main,
        "<div class=\"feld\"><label for=\"nachricht-text\">Ihre Nachricht</label>\n<p class=\"feld__hilfe\" id=\"hilfe-nachricht-text\">Höchstens 5.000 Zeichen. Ohne Text können Sie auch nur Dokumente senden.</p>\n<textarea id=\"nachricht-text\" name=\"text\" rows=\"6\" maxlength=\"{TEXT_LIMIT}\" aria-describedby=\"hilfe-nachricht-text{text_error}\"{text_invalid}>{kept}</textarea></div>\n<div class=\"feld\"><label for=\"nachricht-dateien\">Dokumente anhängen (freiwillig)</label>\n<p class=\"feld__hilfe\" id=\"hilfe-nachricht-dateien\">PDF, PNG oder JPEG, höchstens {file} MB je Datei und {files} MB zusammen. Mehrere Dateien können Sie zusammen auswählen.</p>\n<input type=\"file\" id=\"nachricht-dateien\" name=\"file\" multiple accept=\"application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg\" aria-describedby=\"hilfe-nachricht-dateien{files_error}\"{files_invalid}></div>\n<button class=\"knopf knopf--senden\" type=\"submit\">Nachricht senden</button>\n</form>\n</section>",
        kept = escape(kept),
        file = FILE_LIMIT / (1024 * 1024),
        files = FILES_LIMIT / (1024 * 1024),
    );
}

fn history_table(main: &mut String, history: &[StatusEntry]) {
    // Notes from before the conversation existed are still shown where they are.
    let notes = history.iter().any(|h| h.note.is_some());
    let _ = writeln!(
        main,
        "<table>\n<caption>Verlauf</caption>\n<thead><tr><th scope=\"col\">Zeitpunkt</th><th scope=\"col\">Stand</th>{}</tr></thead>\n<tbody>",
        if notes { "<th scope=\"col\">Hinweis der Behörde</th>" } else { "" }
    );
    for entry in history.iter().rev() {
        let note = if notes {
            format!("<td>{}</td>", escape(entry.note.as_deref().unwrap_or("–")))
        } else {
            String::new()
        };
        let _ = writeln!(
            main,
            "<tr><td>{}</td><td>{}</td>{note}</tr>",
            escape(&when(&entry.at)),
            escape(status_label(&entry.status)),
        );
    }
    main.push_str("</tbody>\n</table>\n");
}
