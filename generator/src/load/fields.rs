//! Reads typed values out of a spanned TOML table, reporting every problem (missing key,
//! wrong type, unknown key with a suggestion) instead of stopping at the first.

use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostics::{hint, Diagnostics, Loc};
use crate::source::SourceText;

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub loc: Loc,
}

/// A TOML document embedded in a file: the whole file, or front matter at `base`.
pub struct TomlDoc<'s> {
    pub src: &'s SourceText,
    pub base: usize,
}

impl TomlDoc<'_> {
    pub fn loc(&self, span: Range<usize>) -> Loc {
        self.src.loc(self.base + span.start)
    }

    /// Parses `text` (a slice of the file starting at `base`), reporting syntax errors.
    /// Returns `None` when the document has errors, as a half-parsed table would only
    /// produce follow-up noise.
    pub fn parse<'i>(&self, text: &'i str, diags: &Diagnostics) -> Option<Spanned<DeTable<'i>>> {
        let (table, errors) = DeTable::parse_recoverable(text);
        for error in &errors {
            let at = error.span().map_or(0, |s| s.start);
            let message = error.message().trim().replace('\n', " ");
            diags.error(self.loc(at..at), format!("invalid TOML: {message}"));
        }
        errors.is_empty().then_some(table)
    }
}

/// A table being read. Every key asked for is remembered, so that [`Fields::finish`] can
/// report the keys nobody asked for as unknown.
pub struct Fields<'t, 'i, 'd> {
    table: &'t DeTable<'i>,
    at: Loc,
    doc: &'d TomlDoc<'d>,
    diags: &'d Diagnostics,
    asked: Vec<&'static str>,
    what: &'static str,
}

impl<'t, 'i, 'd> Fields<'t, 'i, 'd> {
    /// `what` names the table in messages, e.g. "service" or "form field".
    pub fn new(
        table: &'t Spanned<DeTable<'i>>,
        what: &'static str,
        doc: &'d TomlDoc<'d>,
        diags: &'d Diagnostics,
    ) -> Self {
        Fields {
            table: table.get_ref(),
            at: doc.loc(table.span()),
            doc,
            diags,
            asked: Vec::new(),
            what,
        }
    }

    pub fn loc(&self) -> &Loc {
        &self.at
    }

    pub fn diags(&self) -> &'d Diagnostics {
        self.diags
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    fn get(&mut self, key: &'static str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.asked.push(key);
        self.table.get(key)
    }

    fn wrong_type(&self, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        self.diags.error(
            self.doc.loc(value.span()),
            format!(
                "`{key}` must be {expected}, found {}",
                value.get_ref().type_str()
            ),
        );
    }

    fn missing(&self, key: &str) {
        self.diags.error(
            self.at.clone(),
            format!("missing required key `{key}` in {}", self.what),
        );
    }

    pub fn str(&mut self, key: &'static str) -> Option<Located<String>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some(Located {
                value: s.trim().to_string(),
                loc: self.doc.loc(value.span()),
            }),
            _ => {
                self.wrong_type(key, value, "a string");
                None
            }
        }
    }

    /// A string that must be present and not blank.
    pub fn required_str(&mut self, key: &'static str) -> Option<Located<String>> {
        if !self.has(key) {
            self.get(key);
            self.missing(key);
            return None;
        }
        let s = self.str(key)?;
        if s.value.is_empty() {
            self.diags
                .error(s.loc.clone(), format!("`{key}` must not be empty"));
            return None;
        }
        Some(s)
    }

    pub fn str_list(&mut self, key: &'static str) -> Option<Vec<Located<String>>> {
        let value = self.get(key)?;
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(key, value, "a list of strings");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => out.push(Located {
                    value: s.trim().to_string(),
                    loc: self.doc.loc(item.span()),
                }),
                _ => self.wrong_type(key, item, "a list of strings"),
            }
        }
        Some(out)
    }

    /// Text that may be written as one string or as a list of strings.
    pub fn text_list(&mut self, key: &'static str) -> Option<Vec<String>> {
        let value = self.get(key)?;
        if let DeValue::String(s) = value.get_ref() {
            return Some(vec![s.trim().to_string()]);
        }
        self.asked.pop();
        self.str_list(key)
            .map(|items| items.into_iter().map(|s| s.value).collect())
    }

    pub fn bool(&mut self, key: &'static str) -> Option<bool> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, value, "true or false");
                None
            }
        }
    }

    pub fn number(&mut self, key: &'static str) -> Option<Located<f64>> {
        let value = self.get(key)?;
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => parse_integer(i.as_str(), i.radix()).map(|n| n as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n.is_finite() => Some(Located {
                value: n,
                loc: self.doc.loc(value.span()),
            }),
            _ => {
                self.wrong_type(key, value, "a finite number");
                None
            }
        }
    }

    pub fn positive_int(&mut self, key: &'static str) -> Option<Located<u32>> {
        let value = self.get(key)?;
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => parse_integer(i.as_str(), i.radix()),
            _ => None,
        };
        match parsed
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
        {
            Some(n) => Some(Located {
                value: n,
                loc: self.doc.loc(value.span()),
            }),
            None => {
                self.wrong_type(key, value, "a positive whole number");
                None
            }
        }
    }

    /// A whole number of any sign; the caller checks its range with a message that says
    /// what the number means.
    pub fn integer(&mut self, key: &'static str) -> Option<Located<i64>> {
        let value = self.get(key)?;
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => parse_integer(i.as_str(), i.radix()),
            _ => None,
        };
        match parsed {
            Some(n) => Some(Located {
                value: n,
                loc: self.doc.loc(value.span()),
            }),
            None => {
                self.wrong_type(key, value, "a whole number");
                None
            }
        }
    }

    /// A sub-table such as `[form]`; its own unknown keys are reported when the returned
    /// reader finishes.
    pub fn table(&mut self, key: &'static str, what: &'static str) -> Option<Fields<'t, 'i, 'd>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Table(table) => Some(Fields {
                table,
                at: self.doc.loc(value.span()),
                doc: self.doc,
                diags: self.diags,
                asked: Vec::new(),
                what,
            }),
            _ => {
                self.wrong_type(key, value, "a table");
                None
            }
        }
    }

    /// An array of tables such as `[[offices]]`.
    pub fn tables(&mut self, key: &'static str, what: &'static str) -> Vec<Fields<'t, 'i, 'd>> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(key, value, "an array of tables");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.get_ref() {
                DeValue::Table(table) => out.push(Fields {
                    table,
                    at: self.doc.loc(item.span()),
                    doc: self.doc,
                    diags: self.diags,
                    asked: Vec::new(),
                    what,
                }),
                _ => self.wrong_type(key, item, "an array of tables"),
            }
        }
        out
    }

    /// Reports every key of the table that no reader asked for.
    pub fn finish(self) {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if !self.asked.contains(&name) {
                let known: Vec<&str> = self.asked.clone();
                self.diags.error(
                    self.doc.loc(key.span()),
                    format!(
                        "unknown key `{name}` in {}{}",
                        self.what,
                        hint(name, &known)
                    ),
                );
            }
        }
    }
}

fn parse_integer(digits: &str, radix: u32) -> Option<i64> {
    let cleaned: Cow<'_, str> = if digits.contains('_') {
        Cow::Owned(digits.replace('_', ""))
    } else {
        Cow::Borrowed(digits)
    };
    let unprefixed = cleaned
        .strip_prefix("0x")
        .or_else(|| cleaned.strip_prefix("0o"))
        .or_else(|| cleaned.strip_prefix("0b"))
        .unwrap_or(&cleaned);
    i64::from_str_radix(unprefixed, radix).ok()
}
