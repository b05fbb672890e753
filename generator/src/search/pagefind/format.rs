//! Pagefind 1.6's index files, as its search client reads them: CBOR in a gzip stream
//! behind the `pagefind_dcd` signature (`pf_meta`, `pf_index`, `pf_filter`), gzipped
//! JSON fragments, and `pagefind-entry.json`. The layouts mirror Pagefind's own
//! (`index/index_*.rs`, `output/`), field for field, so the files decode the same.

use std::cell::RefCell;
use std::collections::BTreeMap;

use minicbor::Encode;
use serde::Serialize;
use sha1::{Digest as _, Sha1};

/// The Pagefind version these files are written for; the client refuses others.
pub const VERSION: &str = "1.6.0";
pub const LANGUAGE: &str = "de";

#[derive(Encode, Debug)]
pub struct MetaIndex {
    #[n(0)]
    pub version: String,
    #[n(1)]
    pub pages: Vec<MetaPage>,
    #[n(2)]
    pub index_chunks: Vec<MetaChunk>,
    #[n(3)]
    pub filters: Vec<MetaFilter>,
    #[n(4)]
    pub sorts: Vec<MetaSort>,
    #[n(5)]
    pub meta_fields: Vec<String>,
}

#[derive(Encode, Debug, PartialEq)]
pub struct MetaChunk {
    #[n(0)]
    pub from: String,
    #[n(1)]
    pub to: String,
    #[n(2)]
    pub hash: String,
}

#[derive(Encode, Debug)]
pub struct MetaPage {
    #[n(0)]
    pub hash: String,
    #[n(1)]
    pub word_count: u32,
    #[n(2)]
    pub group_hash: String,
}

#[derive(Encode, Debug)]
pub struct MetaFilter {
    #[n(0)]
    pub filter: String,
    #[n(1)]
    pub hash: String,
}

#[derive(Encode, Debug)]
pub struct MetaSort {
    #[n(0)]
    pub sort: String,
    #[n(1)]
    pub pages: Vec<usize>,
}

#[derive(Encode)]
pub struct WordIndex {
    #[n(0)]
    pub words: Vec<PackedWord>,
}

#[derive(Encode, Clone, Debug)]
pub struct PackedWord {
    #[n(0)]
    #[cbor(encode_with = "encode_str")]
    pub word: std::sync::Arc<str>,
    #[n(1)]
    pub pages: Vec<PackedPage>,
    #[n(2)]
    pub additional_variants: Vec<PackedVariant>,
}

#[derive(Encode, Clone, Debug)]
pub struct PackedVariant {
    #[n(0)]
    #[cbor(encode_with = "encode_str")]
    pub form: std::sync::Arc<str>,
    #[n(1)]
    pub pages: Vec<PackedPage>,
}

#[derive(Encode, Clone, Debug)]
pub struct PackedPage {
    #[n(0)]
    pub page_number: usize,
    #[n(1)]
    pub locs: Vec<i32>,
    #[n(2)]
    pub meta_locs: Vec<i32>,
}

/// A shared string, encoded as the text it holds.
fn encode_str<C, W: minicbor::encode::Write>(
    s: &std::sync::Arc<str>,
    e: &mut minicbor::Encoder<W>,
    _: &mut C,
) -> Result<(), minicbor::encode::Error<W::Error>> {
    e.str(s)?;
    Ok(())
}

#[derive(Encode)]
pub struct FilterIndex {
    #[n(0)]
    pub filter: String,
    #[n(1)]
    pub values: Vec<PackedValue>,
}

#[derive(Encode, Debug)]
pub struct PackedValue {
    #[n(0)]
    pub value: String,
    #[n(1)]
    pub pages: Vec<usize>,
}

/// A page's fragment: what the client shows of a hit.
#[derive(Serialize, Debug, Clone)]
pub struct Fragment {
    pub url: String,
    pub content: String,
    pub word_count: usize,
    pub filters: BTreeMap<String, Vec<String>>,
    pub meta: BTreeMap<String, String>,
    pub anchors: Vec<Anchor>,
}

#[derive(Serialize, Debug, Clone)]
pub struct Anchor {
    pub element: String,
    pub id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub location: u32,
}

#[derive(Serialize)]
struct Entry<'a> {
    version: &'a str,
    languages: BTreeMap<&'a str, EntryLanguage<'a>>,
    include_characters: &'a [char],
}

#[derive(Serialize)]
struct EntryLanguage<'a> {
    hash: &'a str,
    wasm: Option<&'a str>,
    page_count: usize,
}

/// `pagefind-entry.json`: where the client starts; `index` is the page list's name
/// and the number of pages (none for an index without a word).
pub fn entry_json(index: Option<(&str, usize)>) -> Vec<u8> {
    let languages = index.map(|(hash, page_count)| {
        let language = EntryLanguage {
            hash,
            wasm: Some(LANGUAGE),
            page_count,
        };
        (LANGUAGE, language)
    });
    let entry = Entry {
        version: VERSION,
        languages: languages.into_iter().collect(),
        include_characters: super::words::INCLUDE_CHARACTERS,
    };
    serde_json::to_vec(&entry).expect("the entry serialises")
}

pub fn cbor<T: Encode<()>>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    minicbor::encode(value, &mut out).expect("encoding into a Vec cannot fail");
    out
}

/// Pagefind's content hash: SHA-1, each byte in hex without padding.
pub fn full_hash(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(40);
    for b in Sha1::digest(bytes) {
        let _ = write!(out, "{b:x}");
    }
    out
}

/// A file as the client fetches it: the signature and the bytes, gzipped. Pagefind
/// gzips everything with zlib at the best level; measured on the benchmark corpus
/// (Bottrop's index, docs/search.md), libdeflate at level 6 packs the word chunks, the
/// page list and the filters, which every query loads, in a third of zlib's time at
/// 0.8 % more bytes (a query's 102.3 KB: 0.2 KB more), and at level 8 the fragments,
/// one per hit shown, smaller in half the time ([`fragment_file`]).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(SIGNATURE.len() + bytes.len());
    input.extend_from_slice(SIGNATURE);
    input.extend_from_slice(bytes);
    deflated(&input, Packing::Index)
}

/// A page's fragment file (gzipped) and the hash of its JSON, which names it.
pub fn fragment_file(fragment: &Fragment) -> (Vec<u8>, String) {
    thread_local! {
        static JSON: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    JSON.with(|json| {
        let mut json = json.borrow_mut();
        json.clear();
        json.extend_from_slice(SIGNATURE);
        serde_json::to_writer(&mut *json, fragment).expect("a fragment serialises");
        (
            deflated(&json, Packing::Fragment),
            full_hash(&json[SIGNATURE.len()..]),
        )
    })
}

/// Which libdeflate level a file gets (see [`gzip`]).
#[derive(Clone, Copy)]
enum Packing {
    Index,
    Fragment,
}

/// `input` (signature included) gzipped. libdeflate compresses into a buffer of the
/// worst case's size; each thread keeps one, and a compressor per level, rather than
/// zeroing new ones for every file.
fn deflated(input: &[u8], packing: Packing) -> Vec<u8> {
    struct Packer {
        index: libdeflater::Compressor,
        fragment: libdeflater::Compressor,
        out: Vec<u8>,
    }
    let level = |n| libdeflater::CompressionLvl::new(n).expect("6 and 8 are libdeflate levels");
    thread_local! {
        static PACKER: RefCell<Option<Packer>> = const { RefCell::new(None) };
    }
    PACKER.with(|packer| {
        let mut packer = packer.borrow_mut();
        let Packer {
            index,
            fragment,
            out,
        } = packer.get_or_insert_with(|| Packer {
            index: libdeflater::Compressor::new(level(6)),
            fragment: libdeflater::Compressor::new(level(8)),
            out: Vec::new(),
        });
        let compressor = match packing {
            Packing::Index => index,
            Packing::Fragment => fragment,
        };
        let bound = compressor.gzip_compress_bound(input.len());
        if out.len() < bound {
            out.resize(bound, 0);
        }
        let len = compressor
            .gzip_compress(input, out)
            .expect("the output has the bound's size");
        out[..len].to_vec()
    })
}

const SIGNATURE: &[u8] = b"pagefind_dcd";
