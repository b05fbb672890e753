//! One index built from records: each page's words (in parallel), merged into the word
//! list, cut into chunks, and encoded as Pagefind's files. The steps and their order
//! follow Pagefind's `index/mod.rs` so that the result is the same, file for file.

use std::cell::RefCell;
use std::collections::{hash_map, BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use rayon::prelude::*;

use super::digest::{self, ANCHOR, AUTO_WEIGHT, END_WEIGHT, WEIGHT};
use super::format::{
    self, Anchor, FilterIndex, Fragment, MetaChunk, MetaFilter, MetaIndex, MetaPage, PackedPage,
    PackedValue, PackedVariant, PackedWord, WordIndex, LANGUAGE,
};
use super::words::Splitter;
use crate::search::Record;

/// Pagefind's default number of word locations per chunk.
const DEFAULT_CHUNK_SIZE: usize = 20_000;

thread_local! {
    static SPLITTER: RefCell<Splitter> = RefCell::new(Splitter::default());
}

/// The files of one index (paths relative to its folder), without the client's
/// scripts and WebAssembly.
pub struct IndexFiles {
    pub files: Vec<(String, Vec<u8>)>,
}

struct Position {
    position: u32,
    weight: u8,
    original: Option<Arc<str>>,
}

struct MetaPosition {
    field: u16,
    position: u32,
    original: Option<Arc<str>>,
}

/// What one page adds.
struct PageResult {
    words: Vec<PackedWord>,
    filters: BTreeMap<String, Vec<String>>,
    /// The fragment file, gzipped here in the parallel step while its JSON is fresh.
    fragment: Vec<u8>,
    full_hash: String,
    word_count: usize,
}

/// Builds the index of `records` (in their order; pages without a word are left out,
/// as Pagefind does).
pub fn build(records: &[Record], chunk_size: Option<usize>) -> IndexFiles {
    // Pages without a word are dropped first: only the others' metadata fields count.
    let prepared: Vec<Prepared> = records
        .par_iter()
        .filter_map(|record| SPLITTER.with(|s| prepare(&mut s.borrow_mut(), record)))
        .collect();
    let meta_fields: Vec<String> = prepared
        .iter()
        .flat_map(|p| p.meta.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Numbered in the parallel step, while each page's words are in the cache.
    let pages: Vec<PageResult> = prepared
        .into_par_iter()
        .enumerate()
        .map(|(number, p)| {
            let mut page = SPLITTER.with(|s| add_meta_words(&mut s.borrow_mut(), p, &meta_fields));
            for word in &mut page.words {
                for p in word.pages.iter_mut().chain(
                    word.additional_variants
                        .iter_mut()
                        .flat_map(|v| &mut v.pages),
                ) {
                    p.page_number = number;
                }
            }
            page
        })
        .collect();
    let page_count = pages.len();
    if page_count == 0 {
        // Pagefind writes no language at all for an index without a word.
        return IndexFiles {
            files: vec![("pagefind-entry.json".to_string(), format::entry_json(None))],
        };
    }

    let mut words: FxHashMap<Arc<str>, PackedWord> = FxHashMap::default();
    let mut filters: BTreeMap<String, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
    let mut meta = MetaIndex {
        version: format::VERSION.to_string(),
        pages: Vec::with_capacity(page_count),
        index_chunks: Vec::new(),
        filters: Vec::new(),
        sorts: Vec::new(),
        meta_fields,
    };
    let mut fragment_names: HashMap<String, String> = HashMap::new();
    let mut fragments: Vec<(String, Vec<u8>)> = Vec::with_capacity(page_count);
    for (number, page) in pages.into_iter().enumerate() {
        for packed in page.words {
            match words.entry(packed.word.clone()) {
                hash_map::Entry::Occupied(mut entry) => {
                    let existing = entry.get_mut();
                    existing.pages.extend(packed.pages);
                    for variant in packed.additional_variants {
                        match existing
                            .additional_variants
                            .iter_mut()
                            .find(|v| v.form == variant.form)
                        {
                            Some(v) => v.pages.extend(variant.pages),
                            None => existing.additional_variants.push(variant),
                        }
                    }
                }
                hash_map::Entry::Vacant(entry) => {
                    entry.insert(packed);
                }
            }
        }
        for (filter, values) in page.filters {
            let by_value = filters.entry(filter).or_default();
            for value in values {
                by_value.entry(value).or_default().push(number);
            }
        }
        let name = short_name(&page.full_hash, |n| {
            fragment_names.get(n).is_some_and(|h| h != &page.full_hash)
        });
        if !fragment_names.contains_key(&name) {
            fragment_names.insert(name.clone(), page.full_hash.clone());
            fragments.push((name.clone(), page.fragment));
        }
        meta.pages.push(MetaPage {
            hash: name,
            word_count: page.word_count as u32,
            group_hash: String::new(),
        });
    }

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (filter, values) in filters {
        let encoded = format::cbor(&FilterIndex {
            filter: filter.clone(),
            values: values
                .into_iter()
                .map(|(value, pages)| PackedValue { value, pages })
                .collect(),
        });
        let hash = format!("{LANGUAGE}_{}", format::full_hash(&encoded));
        let name = unique_prefix(&hash, &taken);
        taken.insert(name.clone());
        meta.filters.push(MetaFilter {
            filter,
            hash: name.clone(),
        });
        files.push((format!("filter/{name}.pf_filter"), encoded));
    }

    let chunks = chunk_index(words, chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE));
    meta.index_chunks = chunk_meta(&chunks);
    let encoded: Vec<Vec<u8>> = chunks
        .into_par_iter()
        .map(|chunk| {
            let words = chunk.into_iter().map(delta_encoded).collect();
            format::cbor(&WordIndex { words })
        })
        .collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (i, encoded) in encoded.into_iter().enumerate() {
        let hash = format!("{LANGUAGE}_{}", format::full_hash(&encoded));
        let name = unique_prefix(&hash, &taken);
        taken.insert(name.clone());
        meta.index_chunks[i].hash = name.clone();
        files.push((format!("index/{name}.pf_index"), encoded));
    }

    let meta_bytes = format::cbor(&meta);
    let meta_hash = format!(
        "{LANGUAGE}_{}",
        &format::full_hash(&meta_bytes)[..=LANGUAGE.len() + 7]
    );
    let mut out: Vec<(String, Vec<u8>)> = files
        .into_par_iter()
        .map(|(path, bytes)| (path, format::gzip(&bytes)))
        .collect();
    out.extend(
        fragments
            .into_iter()
            .map(|(name, gzipped)| (format!("fragment/{name}.pf_fragment"), gzipped)),
    );
    out.push((
        format!("pagefind.{meta_hash}.pf_meta"),
        format::gzip(&meta_bytes),
    ));
    out.push((
        "pagefind-entry.json".to_string(),
        format::entry_json(Some((&meta_hash, page_count))),
    ));
    IndexFiles { files: out }
}

/// The shortest name `<lang>_<7 or more hex digits>` of `hash` that `taken` does not
/// hold (Pagefind lengthens a name on a collision).
fn unique_prefix(hash: &str, taken: &BTreeSet<String>) -> String {
    let mut len = LANGUAGE.len() + 8;
    while len < hash.len() && taken.contains(&hash[..len]) {
        len += 1;
    }
    hash[..len].to_string()
}

/// A fragment's name: its hash's shortest prefix not used by a different fragment.
fn short_name(full_hash: &str, collides: impl Fn(&str) -> bool) -> String {
    let mut len = LANGUAGE.len() + 8;
    while len < full_hash.len() && collides(&full_hash[..len]) {
        len += 1;
    }
    full_hash[..len].to_string()
}

/// Metadata as Pagefind keeps it: values with whitespace normalised, empty ones
/// dropped, the first image after the title as `image`/`image_alt`.
fn page_meta(record: &Record, digest: &digest::Digest) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::new();
    // Pagefind keeps a field whose text is not empty, normalised (possibly to "").
    for (key, value) in record.meta.iter().filter(|(_, v)| !v.is_empty()) {
        let value = digest::normalize_content(&crate::search::records::escape(value));
        meta.insert(key.to_string(), value);
    }
    if let Some(title) = &digest.auto_title {
        meta.entry("title".into()).or_insert_with(|| title.clone());
    }
    if let Some((src, alt)) = &digest.image {
        if !meta.contains_key("image") {
            meta.insert("image".into(), src.clone());
            meta.insert("image_alt".into(), alt.clone());
        }
    }
    meta
}

/// A page's text, split into words.
struct BodyWords {
    content: String,
    anchors: Vec<Anchor>,
    positions: FxHashMap<Arc<str>, Vec<Position>>,
    word_count: usize,
}

/// The words of the page's text, as Pagefind's `parse_digest` finds them; `None` for a
/// page without a word, which Pagefind leaves out.
fn body_words(splitter: &mut Splitter, digest: &digest::Digest) -> Option<BodyWords> {
    let mut content = String::with_capacity(digest.text.len());
    let mut anchors = Vec::new();
    // About one distinct word in 16 bytes of text: sized once rather than grown.
    let mut positions: FxHashMap<Arc<str>, Vec<Position>> =
        FxHashMap::with_capacity_and_hasher(digest.text.len() / 16, Default::default());
    let mut weights: Vec<u8> = vec![24];
    let mut index: u32 = 0;
    let mut max_index: u32 = 0;
    // Zero-width spaces are rare: looked for once per page, not in every word.
    let has_zero_width_space = digest.text.contains('\u{200B}');
    for word in digest.text.split_whitespace() {
        if word.starts_with('_') {
            if let Some(anchor) = word.strip_prefix(ANCHOR) {
                if let Some((element, anchor_id)) = anchor.split_once(':') {
                    let text = digest
                        .anchor_content
                        .get(anchor_id)
                        .map(|t| digest::normalize_content(t))
                        .unwrap_or_default();
                    if let Some((_, id)) = anchor_id.split_once(':') {
                        anchors.push(Anchor {
                            element: element.to_string(),
                            id: id.to_string(),
                            text: digest::normalize_content(&text),
                            title: None,
                            location: index,
                        });
                    }
                }
                continue;
            }
            if let Some(weight) = word.strip_prefix(WEIGHT) {
                let weight = weight.parse::<f32>().unwrap_or(1.0);
                weights.push(if weight <= 0.0 {
                    0
                } else {
                    ((weight.clamp(0.0, 10.0) * 24.0) as u8).max(1)
                });
                continue;
            }
            if let Some(weight) = word.strip_prefix(AUTO_WEIGHT) {
                let inherited = weights.last().copied().unwrap_or_default();
                weights.push(if weights.len() == 1 {
                    (weight.parse::<f32>().unwrap_or(1.0).clamp(0.0, 10.0) * 24.0) as u8
                } else {
                    inherited
                });
                continue;
            }
            if word.starts_with(END_WEIGHT) {
                weights.pop();
                continue;
            }
        }
        let base = if has_zero_width_space && word.contains('\u{200B}') {
            std::borrow::Cow::Owned(word.replace('\u{200B}', ""))
        } else {
            std::borrow::Cow::Borrowed(word)
        };
        if base.is_empty() {
            continue;
        }
        content.push_str(&base);
        content.push(' ');
        let weight = weights.last().copied().unwrap_or(1);
        let indexable = splitter.body_word(&base);
        let compound = indexable.iter().filter(|w| w.is_compound_part).count();
        let partial = if compound > 0 && weight > 0 {
            (weight / u8::try_from(compound).unwrap_or(u8::MAX)).max(1)
        } else {
            0
        };
        for w in indexable.iter() {
            let entry = Position {
                position: index,
                weight: if w.is_compound_part { partial } else { weight },
                original: w.original.clone(),
            };
            // Looked up by `&str` first: most words recur, and their key exists.
            match positions.get_mut(&*w.stemmed) {
                Some(list) => list.push(entry),
                None => {
                    positions.insert(w.stemmed.clone(), vec![entry]);
                }
            }
        }
        max_index = index;
        index += 1;
    }
    if content.ends_with(' ') {
        content.pop();
    }
    if positions.is_empty() {
        return None;
    }
    Some(BodyWords {
        content,
        anchors,
        positions,
        word_count: max_index as usize + 1,
    })
}

/// A page after the pass that needs nothing of the other pages: the words of its text
/// packed and its fragment written while the text is fresh in the cache. Only the words
/// of its metadata wait, for the metadata fields of all pages, which number them.
struct Prepared {
    words: FxHashMap<Arc<str>, PackedWord>,
    meta: BTreeMap<String, String>,
    filters: BTreeMap<String, Vec<String>>,
    fragment: Vec<u8>,
    full_hash: String,
    word_count: usize,
}

/// A record's page, but for the words of its metadata; `None` for a page without a
/// word of text, which Pagefind leaves out.
fn prepare(splitter: &mut Splitter, record: &Record) -> Option<Prepared> {
    let digest = digest::digest(&record.html);
    let BodyWords {
        content,
        anchors,
        positions,
        word_count,
    } = body_words(splitter, &digest)?;
    let meta = page_meta(record, &digest);
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in record.filters.iter().filter(|(_, v)| !v.is_empty()) {
        // Pagefind normalises (and so decodes) a filter value twice.
        let once = digest::normalize_content(&crate::search::records::escape(value));
        let value = digest::normalize_content(&once);
        filters.entry(key.to_string()).or_default().push(value);
    }
    let (fragment, json_hash) = format::fragment_file(&Fragment {
        url: record.url.clone(),
        content,
        word_count,
        filters: filters.clone(),
        meta: meta.clone(),
        anchors,
    });
    let mut words = FxHashMap::with_capacity_and_hasher(positions.len(), Default::default());
    for (word, list) in positions {
        words.insert(word.clone(), packed_word(word, list));
    }
    Some(Prepared {
        words,
        meta,
        filters,
        fragment,
        full_hash: format!("{LANGUAGE}_{json_hash}"),
        word_count,
    })
}

/// A word of the text with its locations: the plain spelling's, and each spelling with
/// diacritics as a variant.
fn packed_word(word: Arc<str>, list: Vec<Position>) -> PackedWord {
    let mut packed = empty_word(word);
    if list.iter().all(|p| p.original.is_none()) {
        packed.pages.push(packed_page(list));
        return packed;
    }
    let (plain, variants) = by_spelling(list, |p| p.original.clone());
    if !plain.is_empty() {
        packed.pages.push(packed_page(plain));
    }
    for (form, list) in variants {
        packed.additional_variants.push(PackedVariant {
            form,
            pages: vec![packed_page(list)],
        });
    }
    packed
}

/// The page with the words of its metadata: each joins the text's entry of the word,
/// or stands alone when the text lacks it.
fn add_meta_words(splitter: &mut Splitter, page: Prepared, meta_fields: &[String]) -> PageResult {
    let mut meta_positions: FxHashMap<Arc<str>, Vec<MetaPosition>> = FxHashMap::default();
    for (key, value) in &page.meta {
        let field = meta_fields.iter().position(|f| f == key).unwrap_or(0) as u16;
        for (i, word) in value.split_whitespace().enumerate() {
            for w in splitter.meta_word(word).iter() {
                meta_positions
                    .entry(w.stemmed.clone())
                    .or_default()
                    .push(MetaPosition {
                        field,
                        position: i as u32,
                        original: w.original.clone(),
                    });
            }
        }
    }
    let mut words = page.words;
    for (word, list) in meta_positions {
        let packed = words
            .entry(word.clone())
            .or_insert_with(|| empty_word(word));
        add_meta(packed, list);
    }
    PageResult {
        words: words.into_values().collect(),
        filters: page.filters,
        fragment: page.fragment,
        full_hash: page.full_hash,
        word_count: page.word_count,
    }
}

/// A word's locations split into those of its plain spelling and those of each
/// spelling with diacritics (`original`), in the order of those spellings.
fn by_spelling<T>(
    list: Vec<T>,
    original: impl Fn(&T) -> Option<Arc<str>>,
) -> (Vec<T>, BTreeMap<Arc<str>, Vec<T>>) {
    let mut plain = Vec::new();
    let mut variants: BTreeMap<Arc<str>, Vec<T>> = BTreeMap::new();
    for p in list {
        match original(&p) {
            None => plain.push(p),
            Some(form) => variants.entry(form).or_default().push(p),
        }
    }
    (plain, variants)
}

/// Adds a word's locations in the metadata to its entry (the plain spelling's page,
/// or a variant's).
fn add_meta(packed: &mut PackedWord, list: Vec<MetaPosition>) {
    let (plain, variants) = by_spelling(list, |p| p.original.clone());
    if !plain.is_empty() {
        let meta_locs = packed_meta(plain);
        match packed.pages.first_mut() {
            Some(page) => page.meta_locs = meta_locs,
            None => packed.pages.push(PackedPage {
                page_number: 0,
                locs: vec![],
                meta_locs,
            }),
        }
    }
    for (form, list) in variants {
        let meta_locs = packed_meta(list);
        match packed
            .additional_variants
            .iter_mut()
            .find(|v| v.form == form)
        {
            Some(variant) => match variant.pages.first_mut() {
                Some(page) => page.meta_locs = meta_locs,
                None => variant.pages.push(PackedPage {
                    page_number: 0,
                    locs: vec![],
                    meta_locs,
                }),
            },
            None => packed.additional_variants.push(PackedVariant {
                form,
                pages: vec![PackedPage {
                    page_number: 0,
                    locs: vec![],
                    meta_locs,
                }],
            }),
        }
    }
}

fn empty_word(word: Arc<str>) -> PackedWord {
    PackedWord {
        word,
        pages: Vec::new(),
        additional_variants: Vec::new(),
    }
}

/// A page's locations of a word: weight changes inline as negative numbers, positions
/// delta-encoded, the common weight (Pagefind's 25) first.
fn packed_page(mut positions: Vec<Position>) -> PackedPage {
    positions.sort_by_key(|p| (if p.weight == 25 { 0 } else { p.weight }, p.position));
    let mut current = 25;
    let mut last = 0;
    let mut locs = Vec::with_capacity(positions.len() + 2);
    for p in positions {
        if p.weight != current {
            locs.push(-(p.weight as i32) - 1);
            locs.push(p.position as i32);
            current = p.weight;
        } else {
            locs.push((p.position - last) as i32);
        }
        last = p.position;
    }
    PackedPage {
        page_number: 0,
        locs,
        meta_locs: vec![],
    }
}

/// Locations in metadata: a field change as a negative number, then positions
/// delta-encoded within the field.
fn packed_meta(mut positions: Vec<MetaPosition>) -> Vec<i32> {
    positions.sort_by_key(|p| (p.field, p.position));
    let mut current = None;
    let mut last = 0;
    let mut out = Vec::with_capacity(positions.len() + 4);
    for p in positions {
        if Some(p.field) != current {
            out.push(-(p.field as i32) - 1);
            current = Some(p.field);
            last = 0;
        }
        out.push((p.position - last) as i32);
        last = p.position;
    }
    out
}

fn chunk_index(words: FxHashMap<Arc<str>, PackedWord>, chunk_size: usize) -> Vec<Vec<PackedWord>> {
    let mut words: Vec<PackedWord> = words.into_values().collect();
    words.sort_by(|a, b| a.word.cmp(&b.word));
    let mut chunks = Vec::new();
    let mut chunk = Vec::new();
    let mut size = 0;
    for mut word in words {
        word.pages.sort_by_key(|p| p.page_number);
        for v in &mut word.additional_variants {
            v.pages.sort_by_key(|p| p.page_number);
        }
        size += word
            .pages
            .iter()
            .chain(word.additional_variants.iter().flat_map(|v| &v.pages))
            .map(|p| p.locs.len() + p.meta_locs.len() + 1)
            .sum::<usize>()
            + word.additional_variants.len();
        chunk.push(word);
        if size >= chunk_size {
            chunks.push(std::mem::take(&mut chunk));
            size = 0;
        }
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
}

fn chunk_meta(chunks: &[Vec<PackedWord>]) -> Vec<MetaChunk> {
    let mut named: Vec<MetaChunk> = chunks
        .iter()
        .map(|chunk| MetaChunk {
            from: chunk.first().map_or(String::new(), |w| w.word.to_string()),
            to: chunk.last().map_or(String::new(), |w| w.word.to_string()),
            hash: String::new(),
        })
        .collect();
    for i in 1..named.len() {
        let (a, b) = prefixes(&named[i - 1].to, &named[i].from);
        if a >= named[i - 1].from {
            named[i - 1].to = a;
        }
        named[i].from = b;
    }
    named
}

/// The shortest prefixes that still tell two neighbouring words apart.
fn prefixes(a: &str, b: &str) -> (String, String) {
    let common = b.chars().zip(a.chars()).take_while(|(x, y)| x == y).count();
    (
        a.chars().take(common + 1).collect(),
        b.chars().take(common + 1).collect(),
    )
}

fn delta_encoded(mut word: PackedWord) -> PackedWord {
    fn delta(pages: &mut [PackedPage]) {
        let mut last = 0;
        for page in pages {
            let number = page.page_number;
            page.page_number = number - last;
            last = number;
        }
    }
    delta(&mut word.pages);
    for v in &mut word.additional_variants {
        delta(&mut v.pages);
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_names_are_the_shortest_distinct_prefixes() {
        assert_eq!(prefixes("apple", "apricot"), ("app".into(), "apr".into()));
        assert_eq!(
            prefixes("cath", "cathartic"),
            ("cath".into(), "catha".into())
        );
    }

    #[test]
    fn weights_and_positions_are_packed_like_pagefind() {
        let p = |position, weight| Position {
            position,
            weight,
            original: None,
        };
        let packed = packed_page(vec![p(7, 24), p(2, 168), p(3, 24)]);
        assert_eq!(packed.locs, vec![-25, 3, 4, -169, 2]);
    }
}
