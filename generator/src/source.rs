//! Maps byte offsets in a content file to the line and column a person sees.

use std::sync::Arc;

use crate::diagnostics::Loc;

/// A loaded text file with an index of its line starts.
pub struct SourceText {
    pub path: Arc<str>,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceText {
    pub fn new(path: Arc<str>, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceText {
            path,
            text,
            line_starts,
        }
    }

    /// The position of byte `offset` (clamped to the text).
    pub fn loc(&self, offset: usize) -> Loc {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let line_start = self.line_starts[line];
        let column = self
            .text
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count());
        Loc {
            path: self.path.clone(),
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    pub fn start(&self) -> Loc {
        Loc::file_start(&self.path)
    }
}

/// The position of byte `offset` of `text`, a part of a file (a Markdown body) whose
/// first byte is at `start`.
pub fn loc_within(start: &Loc, text: &str, offset: usize) -> Loc {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    match before.rfind('\n') {
        Some(newline) => Loc {
            path: start.path.clone(),
            line: start.line + before.matches('\n').count() as u32,
            column: before[newline + 1..].chars().count() as u32 + 1,
        },
        None => Loc {
            path: start.path.clone(),
            line: start.line,
            column: start.column + before.chars().count() as u32,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_within_a_part_of_the_file() {
        let src = SourceText::new("f.md".into(), "+++\n+++\nab\nüx [l](y)".into());
        let start = src.loc(8);
        let body = &src.text[8..];
        let at = body.find('[').unwrap();
        assert_eq!(loc_within(&start, body, at), src.loc(8 + at));
        assert_eq!(loc_within(&start, body, 1), src.loc(9));
    }

    #[test]
    fn counts_lines_and_characters() {
        let src = SourceText::new("f.toml".into(), "a = 1\nüb = 2\n\nx".into());
        assert_eq!((src.loc(0).line, src.loc(0).column), (1, 1));
        assert_eq!((src.loc(6).line, src.loc(6).column), (2, 1));
        // "üb = " is 6 bytes but 5 characters.
        assert_eq!((src.loc(12).line, src.loc(12).column), (2, 6));
        assert_eq!((src.loc(15).line, src.loc(15).column), (4, 1));
        assert_eq!(src.loc(999).line, 4);
    }
}
