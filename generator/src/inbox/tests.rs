//! The inbox without a server: message envelopes sealed as the edge seals them, opened
//! and written as `decrypt` and `pull --out` do.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use lotse_envelope::message::{seal_message, MessageRouting, NewAttachment};
use lotse_envelope::{PrivateKey, PublicKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::folder::{safe_id, safe_name, write_atomic, Folder};
use super::reply::{multipart, read_files, File};
use super::thread::{self, open_attachments, open_thread, problems};
use super::{decrypt, decrypt_items};

const APPLICATION: &str = "7K3M-9QPX";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-das-Foto";
const PDF: &[u8] = b"%PDF-1.7 Bescheid vom Amt";

struct Keys {
    office: PrivateKey,
    office_public: PublicKey,
    citizen: PublicKey,
}

fn keys() -> Keys {
    let (office, office_public) = PrivateKey::generate();
    Keys {
        office,
        office_public,
        citizen: PrivateKey::derive(b"citizen-token", APPLICATION).public_key(),
    }
}

fn routing(application: &str, message: &str, from: &str) -> MessageRouting {
    MessageRouting {
        application: application.into(),
        portal: "bottrop".into(),
        office: "buergerbuero".into(),
        message: message.into(),
        from: from.into(),
        at: "2026-12-01T10:00:00Z".into(),
    }
}

/// One entry of a messages answer, sealed to office and citizen: the envelope's fields
/// plus its attachments inline.
fn entry(
    keys: &Keys,
    routing: MessageRouting,
    text: &str,
    status: Option<&str>,
    files: &[(&str, &str, &[u8])],
) -> Value {
    let attachments: Vec<NewAttachment<'_>> = files
        .iter()
        .enumerate()
        .map(|(i, (name, media_type, bytes))| NewAttachment {
            id: format!("A{}-{}", i + 1, routing.message),
            name: (*name).into(),
            media_type: (*media_type).into(),
            bytes,
        })
        .collect();
    let (envelope, sealed) = seal_message(
        routing,
        text,
        status,
        &attachments,
        &[("office", &keys.office_public), ("citizen", &keys.citizen)],
    )
    .unwrap();
    let mut value: Value = serde_json::from_str(&envelope.to_json()).unwrap();
    value["attachments"] = sealed
        .iter()
        .map(|a| json!({"id": a.id, "ciphertext": BASE64.encode(&a.ciphertext)}))
        .collect();
    value
}

fn answer(messages: Vec<Value>) -> Value {
    json!({
        "id": APPLICATION,
        "portal": "bottrop",
        "office": "buergerbuero",
        "status": "needs_info",
        "messages": messages,
    })
}

fn conversation(keys: &Keys) -> Value {
    answer(vec![
        entry(
            keys,
            routing(APPLICATION, "M1", "citizen"),
            "Hier das Foto.",
            None,
            &[
                ("../../../etc/foto\u{7}.png", "image/png", PNG),
                ("C:\\Users\\erika\\foto.png", "image/png", PNG),
                ("foto.png", "image/png", PNG),
            ],
        ),
        entry(
            keys,
            routing(APPLICATION, "M2", "office"),
            "Ihr Bescheid.",
            Some("needs_info"),
            &[("bescheid.exe", "application/pdf", PDF)],
        ),
    ])
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().into(),
                    fs::read(&path).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn write_key(dir: &Path, key: &PrivateKey) -> PathBuf {
    let path = dir.join("office.key");
    fs::write(&path, key.to_key_file().as_bytes()).unwrap();
    path
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_message_envelope_opens_without_its_keys() {
    let keys = keys();
    let single = entry(
        &keys,
        routing(APPLICATION, "M1", "citizen"),
        "Guten Tag, anbei das Foto.",
        None,
        &[("foto.png", "image/png", PNG)],
    );
    let inbox = decrypt_items(&keys.office, vec![single]);
    assert!(inbox.unreadable.is_empty(), "{:?}", inbox.unreadable);
    let opened: Value = serde_json::from_str(&inbox.to_json()).unwrap();
    assert_eq!(opened["text"], "Guten Tag, anbei das Foto.");
    assert_eq!(opened["from"], "citizen");
    assert_eq!(opened["application"], APPLICATION);
    let file = &opened["attachments"][0];
    assert_eq!(file["name"], "foto.png");
    assert_eq!(file["type"], "image/png");
    assert_eq!(file["size"], PNG.len());
    assert_eq!(file["sha256"], sha(PNG));
    assert!(
        file.get("key").is_none(),
        "the attachment key is never printed"
    );
    assert!(!inbox.to_json().contains("ciphertext"));
}

#[test]
fn the_citizen_key_does_not_open_the_office_part() {
    let keys = keys();
    let (stranger, _) = PrivateKey::generate();
    let inbox = decrypt_items(
        &stranger,
        vec![entry(
            &keys,
            routing(APPLICATION, "M1", "citizen"),
            "x",
            None,
            &[],
        )],
    );
    assert_eq!(inbox.unreadable.len(), 1);
    assert_eq!(
        inbox.unreadable[0].what,
        "message M1 of application 7K3M-9QPX"
    );
    assert!(inbox.entries[0]["unreadable"].is_string());
}

#[test]
fn decrypt_reads_a_whole_conversation_and_writes_its_files() {
    let keys = keys();
    let dir = tempfile::tempdir().unwrap();
    let key = write_key(dir.path(), &keys.office);
    let input = dir.path().join("messages.json");
    fs::write(&input, conversation(&keys).to_string()).unwrap();
    let out = dir.path().join("out");
    let inbox = decrypt(&key, Some(&input), Some(&out)).unwrap();
    assert!(inbox.unreadable.is_empty(), "{:?}", inbox.unreadable);
    let list: Vec<Value> = serde_json::from_str(&inbox.to_json()).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["status"], "needs_info");
    assert_eq!(
        list[0]["attachments"][0]["file"],
        "attachments/M1-foto_.png"
    );
    let files = snapshot(&out);
    let names: Vec<String> = files.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "7K3M-9QPX/attachments/M1-foto-2.png",
            "7K3M-9QPX/attachments/M1-foto.png",
            "7K3M-9QPX/attachments/M1-foto_.png",
            "7K3M-9QPX/attachments/M2-bescheid.exe.pdf",
        ]
    );
    assert_eq!(files[Path::new("7K3M-9QPX/attachments/M1-foto.png")], PNG);
    assert_eq!(
        files[Path::new("7K3M-9QPX/attachments/M2-bescheid.exe.pdf")],
        PDF
    );
}

#[test]
fn a_damaged_attachment_is_reported_and_the_rest_still_written() {
    let keys = keys();
    let mut answer = conversation(&keys);
    let inline = answer["messages"][0]["attachments"][0]["ciphertext"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bytes = BASE64.decode(inline).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    answer["messages"][0]["attachments"][0]["ciphertext"] = json!(BASE64.encode(bytes));
    let mut messages = open_thread(&keys.office, &answer, Some(APPLICATION)).unwrap();
    open_attachments(&mut messages, None);
    let out = tempfile::tempdir().unwrap();
    let folder = Folder::open(out.path()).unwrap();
    let written = folder
        .write_application(APPLICATION, None, Some(&mut messages))
        .unwrap();
    assert_eq!((written.messages, written.attachments), (2, 3));
    let problems = problems(&messages);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].what.starts_with("attachment A1-M1"));
    assert!(problems[0]
        .what
        .contains("message M1 of application 7K3M-9QPX"));
    let thread: Value =
        serde_json::from_slice(&fs::read(written.dir.join("messages.json")).unwrap()).unwrap();
    assert!(thread[0]["attachments"][0]["unreadable"].is_string());
    assert!(thread[0]["attachments"][0].get("file").is_none());
    assert_eq!(
        thread[0]["attachments"][1]["file"],
        "attachments/M1-foto.png"
    );
}

#[test]
fn a_file_that_does_not_match_its_sha256_is_not_written() {
    let keys = keys();
    let mut messages = open_thread(&keys.office, &conversation(&keys), None).unwrap();
    if let Ok(opened) = &mut messages[1].body {
        opened.attachments[0].key.sha256 = sha(b"another file");
    }
    open_attachments(&mut messages, None);
    let out = tempfile::tempdir().unwrap();
    let folder = Folder::open(out.path()).unwrap();
    folder
        .write_application(APPLICATION, None, Some(&mut messages))
        .unwrap();
    let problems = problems(&messages);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].reason.contains("SHA-256"), "{problems:?}");
    let files = snapshot(out.path());
    assert!(!files.keys().any(|p| p.to_string_lossy().contains("M2-")));
    assert!(files.contains_key(Path::new("7K3M-9QPX/attachments/M1-foto.png")));
}

#[test]
fn attachments_by_address_are_fetched_and_checked() {
    let keys = keys();
    let mut answer = conversation(&keys);
    let sealed = answer["messages"][1]["attachments"][0]["ciphertext"]
        .as_str()
        .unwrap()
        .to_string();
    let href = format!("/api/office/applications/{APPLICATION}/attachments/A1-M2");
    answer["messages"][1]["attachments"][0] = json!({"id": "A1-M2", "href": href});
    let mut messages = open_thread(&keys.office, &answer, Some(APPLICATION)).unwrap();
    // Without a fetcher (`decrypt`) it is left alone, not failed.
    open_attachments(&mut messages, None);
    assert!(problems(&messages).is_empty());
    let mut asked = Vec::new();
    let mut fetch = |path: &str| {
        asked.push(path.to_string());
        Ok(BASE64.decode(&sealed).unwrap())
    };
    open_attachments(&mut messages, Some(&mut fetch));
    assert_eq!(asked, [href]);
    let Ok(opened) = &messages[1].body else {
        panic!("M2 opens")
    };
    assert!(matches!(&opened.attachments[0].bytes, Some(Ok(b)) if b.as_slice() == PDF));
}

#[test]
fn pulling_again_writes_the_same_files_and_no_others() {
    let keys = keys();
    let out = tempfile::tempdir().unwrap();
    let application =
        json!({"id": APPLICATION, "fields": {"name": "Erika"}, "status": "needs_info"});
    let write = || {
        let mut messages = open_thread(&keys.office, &conversation(&keys), None).unwrap();
        open_attachments(&mut messages, None);
        Folder::open(out.path())
            .unwrap()
            .write_application(APPLICATION, Some(&application), Some(&mut messages))
            .unwrap()
    };
    let first = write();
    assert_eq!(
        (first.messages, first.attachments, first.changed),
        (2, 4, 6)
    );
    let before = snapshot(out.path());
    let second = write();
    assert_eq!(second.changed, 0, "nothing changed, nothing rewritten");
    assert_eq!(snapshot(out.path()), before);
    assert_eq!(before.len(), 6, "{:?}", before.keys());
    let stored: Value =
        serde_json::from_slice(&before[Path::new("7K3M-9QPX/application.json")]).unwrap();
    assert_eq!(stored, application);
    let thread: Value =
        serde_json::from_slice(&before[Path::new("7K3M-9QPX/messages.json")]).unwrap();
    assert_eq!(thread[1]["text"], "Ihr Bescheid.");
    assert_eq!(thread[1]["from"], "office");
    assert!(
        !String::from_utf8_lossy(&before[Path::new("7K3M-9QPX/messages.json")]).contains("\"key\"")
    );
    // An unreadable application later keeps the application.json written before.
    let mut messages = open_thread(&keys.office, &conversation(&keys), None).unwrap();
    open_attachments(&mut messages, None);
    Folder::open(out.path())
        .unwrap()
        .write_application(APPLICATION, None, Some(&mut messages))
        .unwrap();
    assert_eq!(snapshot(out.path()), before);
}

#[test]
fn messages_of_another_application_are_not_shown_in_this_thread() {
    let keys = keys();
    let answer = answer(vec![entry(
        &keys,
        routing("AAAA-BBBB", "M9", "citizen"),
        "fremd",
        None,
        &[],
    )]);
    let messages = open_thread(&keys.office, &answer, Some(APPLICATION)).unwrap();
    let problems = problems(&messages);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].reason.contains("another application"));
    assert!(open_thread(&keys.office, &answer, Some("CCCC-DDDD")).is_err());
}

#[test]
fn entries_the_server_cannot_read_are_reported() {
    let keys = keys();
    let answer = answer(vec![
        json!({"id": "M1", "from": "citizen", "at": "2026-12-01T10:00:00Z", "unreadable": "damaged"}),
        entry(&keys, routing(APPLICATION, "M2", "office"), "ok", None, &[]),
    ]);
    let messages = open_thread(&keys.office, &answer, Some(APPLICATION)).unwrap();
    let problems = problems(&messages);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].what, "message M1 of application 7K3M-9QPX");
    let shown = thread::to_json(&messages[0]);
    assert_eq!(shown["from"], "citizen");
    assert!(shown["unreadable"].as_str().unwrap().contains("damaged"));
}

#[test]
fn sender_file_names_are_made_safe() {
    for (name, bytes, expected) in [
        ("foto.png", PNG, "foto.png"),
        ("../../.bashrc", PNG, "bashrc.png"),
        ("..", PDF, "anhang.pdf"),
        ("", PDF, "anhang.pdf"),
        ("a/b\\c:d?.PDF", PDF, "c_d_.PDF"),
        ("zeile\nzwei\u{0}.pdf", PDF, "zeile_zwei_.pdf"),
        ("rechnung.exe", PDF, "rechnung.exe.pdf"),
        ("scan.jpeg", b"\xFF\xD8\xFF\xE0JFIF", "scan.jpeg"),
        ("scan.png", b"\xFF\xD8\xFF\xE0JFIF", "scan.png.jpg"),
        ("Bescheid für Müller.pdf", PDF, "Bescheid für Müller.pdf"),
    ] {
        assert_eq!(
            safe_name(name, bytes, "application/pdf"),
            expected,
            "{name:?}"
        );
    }
    let long = format!("{}.pdf", "x".repeat(300));
    let safe = safe_name(&long, PDF, "application/pdf");
    assert!(
        safe.chars().count() <= 80 && safe.ends_with(".pdf"),
        "{safe}"
    );
    for id in ["7K3M-9QPX", "M_1"] {
        assert!(safe_id(id).is_some());
    }
    for id in ["", "..", "../x", "a/b", "a b", "ä"] {
        assert!(safe_id(id).is_none(), "{id:?}");
    }
}

#[test]
fn nothing_is_written_outside_the_folder() {
    let out = tempfile::tempdir().unwrap();
    let folder = Folder::open(out.path()).unwrap();
    assert!(folder.write_application("../escape", None, None).is_err());
    #[cfg(unix)]
    {
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), out.path().join("7K3M-9QPX")).unwrap();
        let error = folder
            .write_application(APPLICATION, Some(&json!({"id": APPLICATION})), None)
            .unwrap_err();
        assert!(error.to_string().contains("outside"), "{error:#}");
        assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }
}

#[test]
fn atomic_writes_leave_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.json");
    assert!(write_atomic(&path, b"eins").unwrap());
    assert!(!write_atomic(&path, b"eins").unwrap());
    assert!(write_atomic(&path, b"zwei").unwrap());
    assert_eq!(fs::read(&path).unwrap(), b"zwei");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn replies_with_files_are_multipart_and_refuse_other_types() {
    let files = [File {
        name: "bescheid \"final\".pdf".into(),
        media_type: "application/pdf",
        bytes: PDF.to_vec(),
    }];
    let (content_type, body) = multipart("Ihr Bescheid", Some("needs_info"), &files).unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    let parts: Vec<&str> = body.split(&format!("--{boundary}")).collect();
    assert_eq!(parts.len(), 5, "{body}");
    assert!(parts[1].contains("name=\"text\"") && parts[1].ends_with("\r\n\r\nIhr Bescheid\r\n"));
    assert!(parts[2].contains("name=\"status\"") && parts[2].contains("\r\n\r\nneeds_info\r\n"));
    assert!(parts[3].contains(
        "Content-Disposition: form-data; name=\"file\"; filename=\"bescheid %22final%22.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-"
    ));
    assert_eq!(parts[4], "--\r\n");

    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notiz.pdf");
    fs::write(&text, "nur Text").unwrap();
    let error = read_files(std::slice::from_ref(&text)).unwrap_err();
    assert!(
        error.to_string().contains("not a PDF, PNG or JPEG"),
        "{error}"
    );
    let png = dir.path().join("foto");
    fs::write(&png, PNG).unwrap();
    let read = read_files(&[png]).unwrap();
    assert_eq!(
        (read[0].name.as_str(), read[0].media_type),
        ("foto", "image/png")
    );
}

#[test]
fn a_file_the_server_cannot_give_is_reported_with_its_reason() {
    let keys = keys();
    let mut answer = conversation(&keys);
    answer["messages"][1]["attachments"][0] =
        json!({"id": "A1-M2", "unreadable": "the sealed file is missing"});
    answer["messages"][0]["attachments"]
        .as_array_mut()
        .unwrap()
        .pop();
    let mut messages = open_thread(&keys.office, &answer, Some(APPLICATION)).unwrap();
    open_attachments(&mut messages, None);
    let problems = problems(&messages);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0]
        .what
        .starts_with("attachment A3-M1 (foto.png) of message M1"));
    assert_eq!(problems[0].reason, "the server does not have it");
    assert!(problems[1].reason.contains("the sealed file is missing"));
}
