//! `lotse serve` over raw TCP: security headers on the server's own answers (directory
//! redirect, 400, 405, 414, 431, the live-reload script), methods of the static site,
//! and the read timeouts and connection cap that keep a stuck client from holding it.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::servers::{free_port, lotse_serve};

/// Sends `request` as it is and reads the answer until the server closes or 30 s pass.
fn raw(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(port: u16, target: &str, extra: &str) -> String {
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
    );
    raw(port, request.as_bytes())
}

fn status(answer: &str) -> &str {
    answer.get(9..12).unwrap_or("")
}

fn has_header(answer: &str, name: &str) -> bool {
    let head = answer.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .any(|line| line.to_ascii_lowercase().starts_with(&format!("{name}:")))
}

const SECURITY_HEADERS: [&str; 4] = [
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
];

#[test]
fn the_servers_own_answers_carry_the_security_headers() {
    let port = free_port();
    let (_server, _) = lotse_serve(port, &["--no-search"], &[], &["/"]);
    let long_query = format!("/?q={}", "a".repeat(9 * 1024));
    let big_header = format!("X-Gross: {}\r\n", "b".repeat(40 * 1024));
    let answers = [
        ("directory redirect", get(port, "/bottrop", ""), "308"),
        ("dot segment", get(port, "/bottrop/../404.html", ""), "400"),
        ("long target", get(port, &long_query, ""), "414"),
        ("large headers", get(port, "/", &big_header), "431"),
        (
            "reload script",
            get(port, "/__lotse/livereload.js", ""),
            "200",
        ),
        ("page", get(port, "/bottrop/", ""), "200"),
        ("missing page", get(port, "/gibt-es-nicht/", ""), "404"),
    ];
    for (what, answer, expected) in &answers {
        assert_eq!(status(answer), *expected, "{what}: {answer:.300}");
        for header in SECURITY_HEADERS {
            assert!(
                has_header(answer, header),
                "{what}: no {header}: {answer:.400}"
            );
        }
    }
}

#[test]
fn the_static_site_answers_get_and_head_only() {
    let port = free_port();
    let (_server, _) = lotse_serve(port, &["--no-search"], &[], &["/"]);
    for method in ["PUT", "DELETE", "TRACE", "POST", "PATCH"] {
        let request = format!(
            "{method} /bottrop/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let answer = raw(port, request.as_bytes());
        assert_eq!(status(&answer), "405", "{method}: {answer:.300}");
        assert!(
            answer.contains("\r\nallow: GET, HEAD\r\n"),
            "{method}: {answer:.300}"
        );
        assert!(has_header(&answer, "content-security-policy"), "{method}");
    }
    let head = raw(
        port,
        format!("HEAD /bottrop/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(status(&head), "200", "{head:.300}");
    let body = head.split("\r\n\r\n").nth(1).unwrap_or("");
    assert!(body.is_empty(), "HEAD sent a body of {} bytes", body.len());
}

/// A client that stops half-way through its headers or its body is cut off after the
/// timeouts (10 s and 20 s), and holding every connection the server allows delays a
/// newcomer only until those time out, instead of stopping the server.
#[test]
fn stuck_clients_are_cut_off_and_cannot_hold_the_server() {
    let port = free_port();
    let (_server, _) = lotse_serve(port, &["--no-search"], &[], &["/"]);

    let half_head = std::thread::spawn(move || {
        let started = Instant::now();
        let answer = raw(
            port,
            format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n").as_bytes(),
        );
        (started.elapsed(), answer)
    });
    let half_body = std::thread::spawn(move || {
        let started = Instant::now();
        let request = format!(
            "POST /api/applications HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"portal\":"
        );
        let answer = raw(port, request.as_bytes());
        (started.elapsed(), answer)
    });
    // Every connection the server takes at once, silent.
    let idle: Vec<TcpStream> = (0..256)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    let started = Instant::now();
    let newcomer = get(port, "/bottrop/", "");
    let waited = started.elapsed();
    assert_eq!(status(&newcomer), "200", "{newcomer:.200}");
    assert!(
        waited < Duration::from_secs(20),
        "the newcomer waited {waited:?}"
    );
    drop(idle);

    let (elapsed, answer) = half_head.join().unwrap();
    assert!(
        elapsed >= Duration::from_secs(5) && elapsed < Duration::from_secs(15),
        "half-sent headers held the connection {elapsed:?}: {answer:.200}"
    );
    let (elapsed, answer) = half_body.join().unwrap();
    assert!(
        elapsed < Duration::from_secs(26),
        "a half-sent body held the connection {elapsed:?}"
    );
    assert!(
        answer.is_empty() || status(&answer) == "408",
        "{answer:.300}"
    );
}
