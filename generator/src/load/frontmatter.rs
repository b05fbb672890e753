//! Splits a Markdown file into its TOML front matter (between `+++` lines) and body.

/// The parts of a Markdown file: the front matter text and the body, each with its byte
/// offset in the file (for positions in messages).
pub struct Parts<'a> {
    pub front_matter: &'a str,
    pub front_matter_offset: usize,
    pub body: &'a str,
    pub body_offset: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FrontMatterError {
    /// The file does not start with a `+++` line.
    Missing,
    /// The opening `+++` has no closing partner.
    Unclosed,
}

pub fn split(text: &str) -> Result<Parts<'_>, FrontMatterError> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let rest = &text[start..];
    let first_line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
    if rest[..first_line_end].trim_end() != "+++" {
        return Err(FrontMatterError::Missing);
    }
    let fm_start = start + first_line_end;
    let mut offset = fm_start;
    for line in text[fm_start..].split_inclusive('\n') {
        if line.trim_end() == "+++" {
            return Ok(Parts {
                front_matter: &text[fm_start..offset],
                front_matter_offset: fm_start,
                body: &text[offset + line.len()..],
                body_offset: offset + line.len(),
            });
        }
        offset += line.len();
    }
    Err(FrontMatterError::Unclosed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_body() {
        let text = "+++\ntitle = \"A\"\n+++\n\nBody\n";
        let parts = split(text).unwrap();
        assert_eq!(parts.front_matter, "title = \"A\"\n");
        assert_eq!(parts.front_matter_offset, 4);
        assert_eq!(parts.body, "\nBody\n");
        assert_eq!(parts.body_offset, 20);
    }

    #[test]
    fn accepts_crlf_and_bom() {
        let parts = split("\u{feff}+++\r\na = 1\r\n+++\r\nx").unwrap();
        assert_eq!(parts.front_matter, "a = 1\r\n");
        assert_eq!(parts.body, "x");
    }

    #[test]
    fn reports_missing_and_unclosed() {
        assert_eq!(split("# Title").err(), Some(FrontMatterError::Missing));
        assert_eq!(
            split("+++\na = 1\n").err(),
            Some(FrontMatterError::Unclosed)
        );
        assert_eq!(split("").err(), Some(FrontMatterError::Missing));
    }
}
