//! Words as Pagefind 1.6 indexes them (`fossick/splitting.rs`): lower-cased, stripped
//! of punctuation, diacritics removed (the original spelling kept as a variant), split
//! at hyphens and camel case into weighted parts, stemmed with Pagefind's own German
//! stemmer, so that its search client (which stems the query the same way) finds them.
//!
//! Only what German text needs: Pagefind's segmentation of Chinese, Japanese and Thai,
//! its katakana suffixes and its emoji words are left out.
//!
//! The same words recur on thousands of pages, so every thread keeps what it worked
//! out per spelling ([`Splitter`]); stemming was a fifth of Pagefind's indexing time.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use convert_case::{Case, Casing};
use pagefind_stem::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;

/// Characters kept inside words besides letters and digits (Pagefind's default
/// `include_characters`), also written into `pagefind-entry.json`.
pub const INCLUDE_CHARACTERS: &[char] = &[
    '_', '\u{203f}', '\u{2040}', '\u{2054}', '\u{fe33}', '\u{fe34}', '\u{fe4d}', '\u{fe4e}',
    '\u{fe4f}', '\u{ff3f}',
];

const MAX_DOTTED_TAIL_CHARS: usize = 64;

/// One entry a written word makes in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexableWord {
    pub stemmed: Arc<str>,
    /// A part of a compound ("ausweis" in "Personalausweis-Antrag"): it carries a share
    /// of the word's weight.
    pub is_compound_part: bool,
    /// The spelling with diacritics, when it differs from `stemmed`'s source.
    pub original: Option<Arc<str>>,
}

/// Splits words into index entries, remembering every spelling it has seen.
pub struct Splitter {
    stemmer: Stemmer,
    body: FxHashMap<String, Arc<[IndexableWord]>>,
    meta: FxHashMap<String, Arc<[IndexableWord]>>,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            stemmer: Stemmer::create(Algorithm::German),
            body: FxHashMap::default(),
            meta: FxHashMap::default(),
        }
    }
}

impl Splitter {
    /// The entries of a word of the text (with its dotted tails: `bottrop.de` in
    /// `buergerbuero@bottrop.de`).
    pub fn body_word(&mut self, raw: &str) -> Arc<[IndexableWord]> {
        if let Some(words) = self.body.get(raw) {
            return words.clone();
        }
        let mut words = indexable_words(raw, &self.stemmer);
        let tails = dotted_tails(raw, &self.stemmer, &words);
        words.extend(tails);
        let words: Arc<[IndexableWord]> = words.into();
        self.body.insert(raw.to_string(), words.clone());
        words
    }

    /// The entries of a word of a metadata field (no dotted tails there).
    pub fn meta_word(&mut self, raw: &str) -> Arc<[IndexableWord]> {
        if let Some(words) = self.meta.get(raw) {
            return words.clone();
        }
        let words: Arc<[IndexableWord]> = indexable_words(raw, &self.stemmer).into();
        self.meta.insert(raw.to_string(), words.clone());
        words
    }
}

fn indexable_words(raw: &str, stemmer: &Stemmer) -> Vec<IndexableWord> {
    let mut results = Vec::new();
    let normalized = normalize_word(raw);
    if !normalized.is_empty() {
        results.push(stem_word(&normalized, stemmer, false));
    }
    let possibly_compound =
        raw.chars().any(|c| !c.is_alphanumeric()) || raw.chars().skip(1).any(char::is_uppercase);
    if !possibly_compound {
        return results;
    }
    let parts = discrete_words(raw);
    if !normalized.is_empty()
        && (parts.contains(char::is_whitespace) || !normalized.starts_with(&parts))
    {
        for part in parts.split_whitespace().filter(|w| w.len() > 1) {
            let without_diacritics = normalize_diacritics(part);
            let stemmed = stemmer.stem(without_diacritics.as_deref().unwrap_or(part));
            results.push(IndexableWord {
                stemmed: stemmed.into(),
                original: without_diacritics.map(|_| part.into()),
                is_compound_part: true,
            });
        }
    }
    results
}

fn dotted_tails(raw: &str, stemmer: &Stemmer, existing: &[IndexableWord]) -> Vec<IndexableWord> {
    let mut tails: Vec<IndexableWord> = Vec::new();
    if !raw.contains('.') {
        return tails;
    }
    for (i, _) in raw.match_indices('.') {
        let rest = &raw[i + 1..];
        let tail = match rest.char_indices().nth(MAX_DOTTED_TAIL_CHARS) {
            Some((end, _)) => &rest[..end],
            None => rest,
        };
        let compound = tail.chars().any(|c| !c.is_alphanumeric())
            || tail.chars().skip(1).any(char::is_uppercase);
        if !compound {
            continue;
        }
        let normalized = normalize_word(tail);
        if normalized.chars().count() < 2 {
            continue;
        }
        let word = stem_word(&normalized, stemmer, true);
        let seen = existing
            .iter()
            .chain(&tails)
            .any(|w| w.stemmed == word.stemmed);
        if !seen {
            tails.push(word);
        }
    }
    tails
}

fn normalize_word(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for mut c in raw.chars() {
        if c.is_alphanumeric() || INCLUDE_CHARACTERS.contains(&c) {
            c.make_ascii_lowercase();
            if c.is_uppercase() {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        }
    }
    out
}

fn stem_word(normalized: &str, stemmer: &Stemmer, is_compound_part: bool) -> IndexableWord {
    let without_diacritics = normalize_diacritics(normalized);
    IndexableWord {
        stemmed: stemmer
            .stem(without_diacritics.as_deref().unwrap_or(normalized))
            .into(),
        original: without_diacritics.map(|_| normalized.into()),
        is_compound_part,
    }
}

/// "Führung" -> "Fuhrung": decomposed, combining marks dropped (the kana voicing marks
/// kept, as Pagefind does); `None` when nothing changes.
fn normalize_diacritics(word: &str) -> Option<String> {
    if word.is_ascii() || !has_decomposition(word) {
        return None;
    }
    let stripped: String = word
        .nfd()
        .filter(|c| {
            !unicode_normalization::char::is_combining_mark(*c)
                || matches!(*c, '\u{3099}' | '\u{309A}')
        })
        .collect();
    let normalized = if stripped
        .chars()
        .any(|c| matches!(c, '\u{3099}' | '\u{309A}'))
    {
        stripped.nfc().collect::<String>()
    } else {
        stripped
    };
    (normalized != word).then_some(normalized)
}

fn has_decomposition(word: &str) -> bool {
    word.chars().any(|c| {
        unicode_normalization::char::is_combining_mark(c) || {
            let mut decomposes = false;
            unicode_normalization::char::decompose_canonical(c, |part| {
                decomposes = decomposes || part != c;
            });
            decomposes
        }
    })
}

/// The word's parts: ASCII punctuation as spaces, camel case split, lower case.
fn discrete_words(raw: &str) -> String {
    raw.replace(|c: char| c.is_ascii_punctuation(), " ")
        .to_case(Case::Lower)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(raw: &str) -> Vec<(String, bool, Option<String>)> {
        Splitter::default()
            .body_word(raw)
            .iter()
            .map(|w| {
                let original = w.original.as_deref().map(str::to_string);
                (w.stemmed.to_string(), w.is_compound_part, original)
            })
            .collect()
    }

    #[test]
    fn stems_german_and_keeps_the_umlaut_spelling() {
        assert_eq!(
            stems("Führungszeugnisses"),
            vec![(
                "fuhrungszeugnis".into(),
                false,
                Some("führungszeugnisses".into())
            )]
        );
    }

    #[test]
    fn splits_compounds_and_dotted_tails() {
        let words = stems("Kfz-Zulassung");
        assert_eq!(words[0].0, "kfzzulass");
        assert!(words[1..].iter().all(|w| w.1));
        assert_eq!(
            words[1..].iter().map(|w| w.0.as_str()).collect::<Vec<_>>(),
            ["kfz", "zulass"]
        );
        let mail = stems("buergerbuero@bottrop.de");
        assert!(mail.iter().any(|w| w.0 == "de" && w.1), "{mail:?}");
    }

    #[test]
    fn remembers_spellings() {
        let mut s = Splitter::default();
        let a = s.body_word("Anmeldung.");
        let b = s.body_word("Anmeldung.");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a[0].stemmed, "anmeld");
    }
}
