//! Content diagnostics: every problem found in a run, each tied to a file position and
//! printed as `path:line:column: error: message`.

use std::fmt;
use std::sync::{Arc, Mutex};

/// A position in a content file, 1-based, columns counted in characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub path: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Loc {
    /// The start of a file, for problems that concern the file as a whole.
    pub fn file_start(path: &Arc<str>) -> Loc {
        Loc {
            path: path.clone(),
            line: 1,
            column: 1,
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    pub loc: Loc,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {}: {}", self.loc, severity, self.message)
    }
}

/// Collects diagnostics from every stage; shareable across the threads that load files
/// in parallel.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Mutex<Vec<Diagnostic>>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&self, loc: Loc, message: impl Into<String>) {
        self.push(loc, Severity::Error, message.into());
    }

    pub fn warning(&self, loc: Loc, message: impl Into<String>) {
        self.push(loc, Severity::Warning, message.into());
    }

    fn push(&self, loc: Loc, severity: Severity, message: String) {
        // Messages quote content; a line break there must not start a fake diagnostic.
        let message: String = message
            .chars()
            .flat_map(|c| {
                let escaped: Vec<char> = if c.is_control() {
                    c.escape_default().collect()
                } else {
                    vec![c]
                };
                escaped
            })
            .collect();
        let diagnostic = Diagnostic {
            loc,
            severity,
            message,
        };
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.lock().iter().any(|d| d.severity == Severity::Error)
    }

    /// All diagnostics in file and position order, each reported once.
    pub fn sorted(&self) -> Vec<Diagnostic> {
        let mut all = self.lock().clone();
        all.sort();
        all.dedup();
        all
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Diagnostic>> {
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Suggests the candidate closest to a misspelled name, if one is close enough to be a
/// plausible typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Ties go to the alphabetically first name, so the hint is the same on every run.
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// Formats the hint part of a message: `" (did you mean `title`?)"` or nothing.
pub fn hint(name: &str, candidates: &[&str]) -> String {
    match did_you_mean(name, candidates.iter().copied()) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_path_line_column_severity_message() {
        let diags = Diagnostics::new();
        let path: Arc<str> = "content/services/x.md".into();
        diags.error(
            Loc {
                path: path.clone(),
                line: 3,
                column: 7,
            },
            "unknown category `famlie`",
        );
        diags.warning(Loc::file_start(&path), "empty body");
        let printed: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            printed,
            [
                "content/services/x.md:1:1: warning: empty body",
                "content/services/x.md:3:7: error: unknown category `famlie`",
            ]
        );
        assert!(diags.has_errors());
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("titel", ["title", "summary"]), Some("title"));
        assert_eq!(did_you_mean("zzz", ["title", "summary"]), None);
    }
}
