//! The conversation on an application (SPEC section 6), independent of HTTP: the
//! citizen's keys, what a message may carry, and reading a message body (JSON or
//! multipart) into text and files.
//!
//! Keys: every application has a citizen key pair derived from the citizen's token
//! ([`citizen_key`]); only its public half is stored. A logged-in citizen's application
//! also stores the private half wrapped under a key derived from the account secret and
//! the citizen's subject ([`wrap_for_account`]), so Mein Postfach opens the conversation
//! with the session, and a copy of the store alone opens nothing (docs/envelope.md).

use lotse_envelope::PrivateKey;

use crate::auth::AccountKey;
use crate::http::Request;

/// Largest file (SPEC: 10 MiB).
pub const FILE_LIMIT: usize = 10 * 1024 * 1024;
/// All files of one message together (SPEC: 20 MiB).
pub const FILES_LIMIT: usize = 20 * 1024 * 1024;
/// Longest message text, in characters.
pub const TEXT_LIMIT: usize = 5000;
/// Most files in one message.
pub const FILE_COUNT_LIMIT: usize = 10;
/// The largest body a message route reads: the files, the text and the multipart
/// framing around them. Anything longer is 413 before it is read in full.
pub const MESSAGE_BODY_LIMIT: usize = FILES_LIMIT + 256 * 1024;

/// The citizen key of an application, from the token only the citizen holds.
pub fn citizen_key(token: &str, application: &str) -> PrivateKey {
    PrivateKey::derive(token.as_bytes(), application)
}

/// The private citizen key wrapped for the citizen's account
/// ([`crate::keyed::seal_base64`], associated data = the application id).
pub fn wrap_for_account(
    accounts: &AccountKey,
    sub: &str,
    application: &str,
    key: &PrivateKey,
) -> String {
    crate::keyed::seal_base64(
        &accounts.wrapping_key(sub),
        &key.to_bytes(),
        application.as_bytes(),
    )
}

/// Opens [`wrap_for_account`]; `None` for another account, application or a damaged value.
pub fn unwrap_for_account(
    accounts: &AccountKey,
    sub: &str,
    application: &str,
    wrapped: &str,
) -> Option<PrivateKey> {
    let key =
        crate::keyed::open_base64(&accounts.wrapping_key(sub), wrapped, application.as_bytes())?;
    PrivateKey::from_bytes(&key).ok()
}

/// The type of a file judged by its first bytes: PDF, PNG or JPEG, nothing else.
pub fn document_type(bytes: &[u8]) -> Option<&'static str> {
    if infer::archive::is_pdf(bytes) {
        Some("application/pdf")
    } else if infer::image::is_png(bytes) {
        Some("image/png")
    } else if infer::image::is_jpeg(bytes) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// A file as sent, before it is judged.
#[derive(Debug)]
pub struct IncomingFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A message as sent, before it is judged.
#[derive(Debug, Default)]
pub struct Incoming {
    pub text: String,
    pub status: Option<String>,
    /// The citizen's token from the HTML form (the status page's reply form).
    pub token: Option<String>,
    pub files: Vec<IncomingFile>,
}

/// Why a message is refused, with the HTTP status and a German reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }
}

/// Whether a refusal (its `code`) is about the files of a message rather than its text.
pub fn is_about_files(code: &str) -> bool {
    matches!(
        code,
        "file_too_large" | "files_too_large" | "too_many_files" | "unsupported_file_type"
    )
}

fn mib(bytes: usize) -> usize {
    bytes / (1024 * 1024)
}

/// A judged file: its type from its bytes and a name fit to show.
#[derive(Debug)]
pub struct Document {
    pub name: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Judges what was sent: the text (trimmed, at most [`TEXT_LIMIT`] characters), the
/// files (PDF, PNG, JPEG by their bytes; sizes); a message with neither is refused.
pub fn judge(incoming: Incoming) -> Result<(String, Vec<Document>), Refusal> {
    let text = incoming.text.trim().to_string();
    if text.chars().count() > TEXT_LIMIT {
        return Err(Refusal::new(
            400,
            "text_too_long",
            format!("Die Nachricht ist zu lang (höchstens {TEXT_LIMIT} Zeichen)."),
        ));
    }
    if incoming.files.len() > FILE_COUNT_LIMIT {
        return Err(Refusal::new(
            413,
            "too_many_files",
            format!("Bitte senden Sie höchstens {FILE_COUNT_LIMIT} Dateien mit einer Nachricht."),
        ));
    }
    let mut total = 0;
    let mut documents = Vec::with_capacity(incoming.files.len());
    for file in incoming.files {
        let shown = display_name(&file.name);
        if file.bytes.len() > FILE_LIMIT {
            return Err(Refusal::new(
                413,
                "file_too_large",
                format!(
                    "Die Datei „{shown}“ ist zu groß (höchstens {} MiB je Datei).",
                    mib(FILE_LIMIT)
                ),
            ));
        }
        total += file.bytes.len();
        if total > FILES_LIMIT {
            return Err(Refusal::new(
                413,
                "files_too_large",
                format!(
                    "Die Dateien sind zusammen zu groß (höchstens {} MiB je Nachricht).",
                    mib(FILES_LIMIT)
                ),
            ));
        }
        let Some(media_type) = document_type(&file.bytes) else {
            return Err(Refusal::new(
                415,
                "unsupported_file_type",
                format!("Die Datei „{shown}“ ist kein PDF, PNG oder JPEG. Bitte senden Sie Dokumente als PDF und Fotos als PNG oder JPEG."),
            ));
        };
        documents.push(Document {
            name: shown,
            media_type,
            bytes: file.bytes,
        });
    }
    if text.is_empty() && documents.is_empty() {
        return Err(Refusal::new(
            400,
            "empty_message",
            "Bitte schreiben Sie eine Nachricht oder wählen Sie eine Datei aus.",
        ));
    }
    Ok((text, documents))
}

/// The sender's file name without any path, control characters or excess length,
/// so that it can be shown and offered for download as it is.
pub fn display_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        // Control characters, and the bidirectional formatting ones that would let
        // `rechnung\u{202E}fdp.exe` show as `rechnungexe.pdf`.
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
                && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':')
        })
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    let clean: String = clean.chars().take(120).collect();
    if clean.is_empty() {
        "Datei".to_string()
    } else {
        clean
    }
}

/// Reads a message body: JSON `{"text", "status"}` or `multipart/form-data` with a
/// `text` part, optional `status` and `token` parts and `file` parts. A file part
/// without a name and without bytes (a form whose file chooser was left empty) is no
/// file.
pub async fn read_body(request: &Request) -> Result<Incoming, Refusal> {
    let content_type = request.header("content-type").unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => read_json(&request.body),
        "multipart/form-data" => read_multipart(content_type, request.body.clone()).await,
        _ => Err(Refusal::new(
            415,
            "unsupported_media_type",
            "Bitte senden Sie application/json oder multipart/form-data.",
        )),
    }
}

fn read_json(body: &[u8]) -> Result<Incoming, Refusal> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        text: Option<String>,
        status: Option<String>,
    }
    let body: Body = serde_json::from_slice(body).map_err(|_| {
        Refusal::new(
            400,
            "invalid_json",
            "Der Inhalt ist kein gültiges JSON der Form {\"text\": \"…\"}.",
        )
    })?;
    Ok(Incoming {
        text: body.text.unwrap_or_default(),
        status: body.status,
        token: None,
        files: Vec::new(),
    })
}

async fn read_multipart(content_type: &str, body: Vec<u8>) -> Result<Incoming, Refusal> {
    let malformed = || {
        Refusal::new(
            400,
            "invalid_multipart",
            "Der Inhalt ist kein gültiges multipart/form-data.",
        )
    };
    let boundary = multer::parse_boundary(content_type).map_err(|_| malformed())?;
    let stream = futures_util::stream::once(async move {
        Ok::<bytes::Bytes, std::convert::Infallible>(bytes::Bytes::from(body))
    });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut incoming = Incoming::default();
    while let Some(part) = parts.next_field().await.map_err(|_| malformed())? {
        let name = part.name().unwrap_or("").to_string();
        let file_name = part.file_name().map(str::to_string);
        let bytes = part.bytes().await.map_err(|_| malformed())?;
        let text = || String::from_utf8(bytes.to_vec()).map_err(|_| malformed());
        match name.as_str() {
            "text" => incoming.text = text()?,
            "status" => incoming.status = Some(text()?).filter(|s| !s.trim().is_empty()),
            "token" => incoming.token = Some(text()?.trim().to_string()),
            "file" => {
                let file_name = file_name.unwrap_or_default();
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                incoming.files.push(IncomingFile {
                    name: file_name,
                    bytes: bytes.to_vec(),
                });
            }
            _ => {
                return Err(Refusal::new(
                    400,
                    "unknown_part",
                    format!(
                        "Unbekannter Teil „{}“ in der Nachricht.",
                        display_name(&name)
                    ),
                ))
            }
        }
    }
    Ok(incoming)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, bytes: &[u8]) -> IncomingFile {
        IncomingFile {
            name: name.into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn files_are_judged_by_their_bytes() {
        let exe = Incoming {
            text: "Anbei".into(),
            files: vec![file("ausweis.pdf", b"MZ\x90\x00 not a pdf")],
            ..Incoming::default()
        };
        assert_eq!(judge(exe).unwrap_err().status, 415);
        let ok = Incoming {
            files: vec![
                file("scan.bin", b"%PDF-1.4\n..."),
                file("foto", b"\xFF\xD8\xFF\xE0....JFIF"),
                file("C:\\Users\\x\\bild.png", b"\x89PNG\r\n\x1a\n...."),
            ],
            ..Incoming::default()
        };
        let (text, documents) = judge(ok).unwrap();
        assert_eq!(text, "");
        let types: Vec<_> = documents.iter().map(|d| d.media_type).collect();
        assert_eq!(types, ["application/pdf", "image/jpeg", "image/png"]);
        assert_eq!(documents[2].name, "bild.png");
    }

    #[test]
    fn sizes_and_empty_messages_are_refused() {
        let big = Incoming {
            files: vec![file(
                "a.pdf",
                &[b"%PDF-".as_slice(), &vec![0; FILE_LIMIT]].concat(),
            )],
            ..Incoming::default()
        };
        assert_eq!(judge(big).unwrap_err().code, "file_too_large");
        let pdf = [b"%PDF-".as_slice(), &vec![0; FILE_LIMIT - 5]].concat();
        let three = Incoming {
            files: vec![
                file("a.pdf", &pdf),
                file("b.pdf", &pdf),
                file("c.pdf", &pdf),
            ],
            ..Incoming::default()
        };
        assert_eq!(judge(three).unwrap_err().code, "files_too_large");
        let empty = Incoming {
            text: "  \n ".into(),
            ..Incoming::default()
        };
        assert_eq!(judge(empty).unwrap_err().status, 400);
    }

    #[test]
    fn names_are_cleaned_for_display() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name(".htaccess"), "htaccess");
        assert_eq!(display_name("a\u{0}b\r\n\"c\".pdf"), "abc.pdf");
        assert_eq!(display_name(""), "Datei");
        assert_eq!(display_name("rechnung\u{202E}fdp.exe"), "rechnungfdp.exe");
    }

    #[test]
    fn account_wrapping_opens_only_for_its_account_and_application() {
        let accounts = AccountKey::from_bytes([7; 32]);
        let key = citizen_key("TOKEN", "7K3M-9QPX");
        let wrapped = wrap_for_account(&accounts, "sub-1", "7K3M-9QPX", &key);
        let opened = unwrap_for_account(&accounts, "sub-1", "7K3M-9QPX", &wrapped).unwrap();
        assert_eq!(
            opened.public_key().to_base64(),
            key.public_key().to_base64()
        );
        assert!(unwrap_for_account(&accounts, "sub-2", "7K3M-9QPX", &wrapped).is_none());
        assert!(unwrap_for_account(&accounts, "sub-1", "7K3M-9QPY", &wrapped).is_none());
        let other = AccountKey::from_bytes([8; 32]);
        assert!(unwrap_for_account(&other, "sub-1", "7K3M-9QPX", &wrapped).is_none());
    }

    #[test]
    fn multipart_bodies_are_read() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nGuten Tag\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\nabc\r\n--XyZ--\r\n";
        let request = Request {
            headers: vec![(
                "content-type".into(),
                "multipart/form-data; boundary=XyZ".into(),
            )],
            body: body.to_vec(),
            ..Request::default()
        };
        let incoming = futures_executor::block_on(read_body(&request)).unwrap();
        assert_eq!(incoming.text, "Guten Tag");
        assert_eq!(incoming.files.len(), 1);
        assert_eq!(incoming.files[0].bytes, b"\x89PNG\r\n\x1a\nabc");
    }
}
