//! The writer against Pagefind's own indexer: the same records, indexed by both, must
//! give the same files with the same contents (after gunzip), name for name.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use pagefind::api::PagefindIndex;
use pagefind::options::PagefindServiceConfig;

use super::{build, CLIENT_FILES};
use crate::search::Record;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip file");
    out
}

/// Every index file, unpacked where Pagefind packs it.
fn unpacked(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> BTreeMap<String, Vec<u8>> {
    files
        .into_iter()
        .filter(|(name, _)| name.contains(".pf_") || name == "pagefind-entry.json")
        .map(|(name, bytes)| {
            let bytes = if name.contains(".pf_") {
                gunzip(&bytes)
            } else {
                bytes
            };
            (name, bytes)
        })
        .collect()
}

fn by_pagefind(records: &[Record], chunk_size: usize) -> BTreeMap<String, Vec<u8>> {
    // Pagefind reads its chunk size from the process's environment: tests running in
    // parallel with other sizes would change it under a running index.
    static PAGEFIND_ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _alone = PAGEFIND_ENV.lock().unwrap_or_else(|p| p.into_inner());
    std::env::set_var("PAGEFIND_UNSTABLE_INDEX_CHUNK_SIZE", chunk_size.to_string());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let files = runtime
        .block_on(async {
            let options = PagefindServiceConfig::builder()
                .force_language("de".to_string())
                .build();
            let mut index = PagefindIndex::new(Some(options))?;
            for r in records {
                index
                    .add_html_file(None, Some(r.url.clone()), r.pagefind_html())
                    .await?;
            }
            index.get_files().await
        })
        .unwrap();
    unpacked(
        files
            .into_iter()
            .map(|f| (f.filename.to_string_lossy().replace('\\', "/"), f.contents)),
    )
}

fn assert_same(records: &[Record], chunk_size: usize) {
    let theirs = by_pagefind(records, chunk_size);
    let ours = unpacked(build(records, Some(chunk_size)).files);
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    for (name, bytes) in &theirs {
        match ours.get(name) {
            Some(mine) if mine == bytes => {}
            Some(mine) => panic!(
                "{name} differs:\n pagefind: {}\n     lotse: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(3000)]),
                String::from_utf8_lossy(&mine[..mine.len().min(3000)])
            ),
            None => {
                let fragments = |m: &BTreeMap<String, Vec<u8>>| {
                    m.iter()
                        .filter(|(n, _)| n.starts_with("fragment/"))
                        .map(|(_, b)| String::from_utf8_lossy(&b[12..]).into_owned())
                        .collect::<std::collections::BTreeSet<_>>()
                };
                let chunks = |m: &BTreeMap<String, Vec<u8>>| {
                    m.iter()
                        .filter(|(n, _)| n.starts_with("index/"))
                        .map(|(_, b)| format!("{}", minicbor::display(&b[12..])))
                        .collect::<std::collections::BTreeSet<_>>()
                };
                let (a, b) = (chunks(&theirs), chunks(&ours));
                let only_theirs: Vec<_> = a.difference(&b).take(3).collect();
                let only_ours: Vec<_> = b.difference(&a).take(3).collect();
                eprintln!("chunks only pagefind wrote: {only_theirs:#?}\nonly lotse wrote: {only_ours:#?}");
                let (a, b) = (fragments(&theirs), fragments(&ours));
                let only_theirs: Vec<_> = a.difference(&b).take(2).collect();
                let only_ours: Vec<_> = b.difference(&a).take(2).collect();
                panic!(
                    "lotse did not write {name}; fragments only pagefind wrote: {only_theirs:#?}\nonly lotse wrote: {only_ours:#?}"
                )
            }
        }
    }
    assert_eq!(names(&ours), names(&theirs));
}

fn example_site() -> crate::resolve::Site {
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
    let (site, diagnostics) = crate::build::check(&content);
    site.unwrap_or_else(|| panic!("the example region has errors: {diagnostics:?}"))
}

#[test]
fn the_example_regions_indexes_equal_pagefinds_file_for_file() {
    let site = example_site();
    let jobs = crate::search::jobs(&site).unwrap();
    assert!(jobs.len() > 3);
    for job in &jobs {
        // Pagefind keeps one page per address; the catalogue's entries for several
        // portals share the search page's.
        let mut records = job.records.clone();
        for (i, r) in records.iter_mut().enumerate() {
            if r.url == "/suche/" {
                r.url = format!("/suche/#{i}");
            }
        }
        assert_same(&records, 2500);
    }
}

#[test]
fn edge_cases_equal_pagefinds() {
    let record = |url: &str, html: &str| Record {
        url: url.to_string(),
        html: html.to_string(),
        filters: vec![
            ("typ", "leistung".into()),
            ("thema", "Bauen & Wohnen".into()),
        ],
        meta: vec![
            ("title", "Straße & Co.".into()),
            ("summary", "  zwei\n Zeilen ".into()),
        ],
    };
    let records = vec![
        record("/a/", "<h1>Führungszeugnis beantragen</h1><p data-pagefind-weight=\"6\">Fuehrungszeugnis · Strafregister</p><p>Kfz-Zulassung, E-Mail: buergerbuero@bottrop.de; Tel. 02041/70-0</p>"),
        record("/b/", "<h1>Hund</h1><div><h2 id=\"unterlagen\">Unterlagen</h2><ul><li>Ausweis<li>Foto</li></ul><table><tr><th>A</th><th>B</th></tr><tr><td>1 €</td><td>„Zitat“</td></tr></table><p>eins<br>zwei <strong>drei</strong>vier &amp; &lt;fünf&gt; &nbsp; Ende</p><h3>Öffnungszeiten</h3><p>Mo–Fr 8:00–12:00 Uhr (außer feiertags)</p><img src=\"/x.png\" alt=\"Ein Bild\"><p>CamelCase WiFi-Netz ÄÖÜ äöü ß _unter_strich_</p></div>"),
        record("/c/", "<h1>Leer</h1>"),
        record("/d/", "<h1>Anmelden</h1><p>anmelden angemeldet Anmeldung Anmeldungen</p>"),
        record("/e/", "<h1>Gewerbe\u{200B}anmeldung</h1><p>Bau\u{200B}antrag und \u{200B} Bauantrag</p>"),
    ];
    for chunk in [2, 50, 20_000] {
        assert_same(&records, chunk);
    }
}

#[test]
fn client_files_are_pagefinds() {
    let files = super::client_files().unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = CLIENT_FILES.to_vec();
    expected.sort();
    assert_eq!(names, expected);
    assert!(files.iter().all(|(_, b)| b.len() > 10_000));
}

mod generated {
    use proptest::prelude::*;

    use super::*;

    const WORDS: &[&str] = &[
        "Hund",
        "anmelden.",
        "Führungszeugnis",
        "Kfz-Zulassung",
        "a.b.c",
        "E-Mail:",
        "buergerbuero@bottrop.de",
        "&amp;",
        "&lt;b&gt;",
        "„Zitat“",
        "CamelCase",
        "12,50",
        "€",
        "_x_",
        "ÄÖÜ",
        "–",
        "WiFi-Netz",
        "Straße",
        "café",
        "(Ausweis)",
        "Mo–Fr",
        "8:00",
        "&nbsp;",
        "x",
        "’s",
        "naïve",
        "3.",
        "*",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            (
                prop::sample::select(WORDS),
                prop::sample::select(&[" ", "\n", "  ", ""][..]),
            ),
            0..8,
        )
        .prop_map(|words| words.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
    }

    fn inline() -> impl Strategy<Value = String> {
        prop_oneof![
            text(),
            text().prop_map(|t| format!("<strong>{t}</strong>")),
            text().prop_map(|t| format!("<a href=\"/x/\">{t}</a>")),
            Just("<br />".to_string()),
            Just("<img src=\"/b.png\" alt=\"Ein Bild\" />".to_string()),
        ]
    }

    fn block() -> impl Strategy<Value = String> {
        let inlines = prop::collection::vec(inline(), 0..4).prop_map(|v| v.concat());
        inlines.prop_flat_map(|content| {
            prop_oneof![
                Just(format!("<p>{content}</p>")),
                Just(format!("<h2 id=\"k-{}\">{content}</h2>", content.len())),
                Just(format!("<h3>{content}</h3>")),
                Just(format!("<ul><li>{content}</li><li>{content}</li></ul>")),
                Just(format!("<ol><li>{content}</li></ol>")),
                Just(format!(
                    "<table><tr><th>{content}</th><td>{content}</td></tr></table>"
                )),
                Just(format!("<p data-pagefind-weight=\"3\">{content}</p>")),
                Just(format!("<div data-pagefind-ignore><p>{content}</p></div>")),
                Just(format!("<blockquote>{content}</blockquote>")),
            ]
        })
    }

    fn record() -> impl Strategy<Value = Record> {
        (text(), prop::collection::vec(block(), 0..5), text(), text()).prop_map(
            |(title, blocks, summary, filter)| Record {
                url: String::new(),
                html: format!("<h1>{}</h1><div>{}</div>", title.trim(), blocks.concat()),
                filters: vec![("thema", filter), ("typ", "leistung".into())],
                meta: vec![("title", title), ("summary", summary)],
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn generated_records_equal_pagefinds(records in prop::collection::vec(record(), 1..6)) {
            let records: Vec<Record> = records
                .into_iter()
                .enumerate()
                .map(|(i, r)| Record { url: format!("/s{i}/"), ..r })
                .collect();
            assert_same(&records, 40);
        }

        #[test]
        fn any_text_digests_without_panicking(html in ".{0,300}") {
            let _ = super::super::digest::digest(&html);
        }
    }
}
