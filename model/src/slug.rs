//! URL slugs as the contract defines them: lowercase ASCII, German umlauts spelled out,
//! every other character a dash.
//!
//! General-purpose slug crates transliterate `ä` to `a` (deunicode), which is wrong for
//! German addresses like `/fuehrerschein/`, so the few rules live here.

/// Turns a title or file name into a slug: `"Führerschein (EU)"` -> `"fuehrerschein-eu"`.
///
/// Runs of replaced characters collapse into one dash, and the slug never starts or ends
/// with a dash. The result may be empty when the input has no ASCII letter or digit.
pub fn slugify(input: &str) -> String {
    let mut slug = String::with_capacity(input.len() + 4);
    let mut pending_dash = false;
    for c in input.chars() {
        let spelled: Option<&str> = match c {
            'ä' | 'Ä' => Some("ae"),
            'ö' | 'Ö' => Some("oe"),
            'ü' | 'Ü' => Some("ue"),
            'ß' | 'ẞ' => Some("ss"),
            _ => None,
        };
        let mut push = |s: &str, slug: &mut String| {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push_str(s);
        };
        if let Some(s) = spelled {
            push(s, &mut slug);
        } else if c.is_ascii_alphanumeric() {
            let lower = c.to_ascii_lowercase();
            push(lower.encode_utf8(&mut [0; 4]), &mut slug);
        } else {
            pending_dash = true;
        }
    }
    slug
}

/// True when `s` is already a slug, i.e. `slugify(s) == s` and it is not empty.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty() && slugify(s) == s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spells_out_german_letters() {
        assert_eq!(slugify("Führungszeugnis"), "fuehrungszeugnis");
        assert_eq!(slugify("Straße"), "strasse");
        assert_eq!(slugify("Ärger über Öl"), "aerger-ueber-oel");
        assert_eq!(slugify("GROẞ"), "gross");
    }

    #[test]
    fn replaces_other_characters_with_single_dashes() {
        assert_eq!(slugify("Ein- & Auswanderung"), "ein-auswanderung");
        assert_eq!(slugify("  Hund  anmelden!  "), "hund-anmelden");
        assert_eq!(slugify("Café"), "caf");
        assert_eq!(slugify("a-z"), "a-z");
        assert_eq!(slugify("§ 19 BMG"), "19-bmg");
        assert_eq!(slugify("—"), "");
    }

    #[test]
    fn recognises_slugs() {
        assert!(is_slug("hund-anmelden"));
        assert!(!is_slug("Hund-anmelden"));
        assert!(!is_slug("-hund"));
        assert!(!is_slug(""));
    }

    proptest! {
        #[test]
        fn slugs_are_lowercase_ascii_and_stable(s in "\\PC{0,40}") {
            let slug = slugify(&s);
            prop_assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            prop_assert!(!slug.starts_with('-') && !slug.ends_with('-'));
            prop_assert!(!slug.contains("--"));
            prop_assert_eq!(slugify(&slug), slug.clone());
        }
    }
}
