//! `lotse init DIR`: a new region's repository that builds and serves at once. It holds
//! content only (the theme is built into `lotse`), a fresh key pair for its one office
//! (the private key outside `content/`, ignored by git), a wrangler.toml that deploys
//! with the worker from the installed `lotse`, and a README for the editors.
//!
//! The files are templates in `init/files/` with `{{name}}` placeholders; values that
//! land inside TOML strings are escaped there (`*_toml`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use lotse_model::slugify;

use crate::inbox;

/// The 14 topics of the Onlinezugangsgesetz, the same as the example region's.
const CATEGORIES: &str = include_str!("../../../content/categories.toml");

/// What `lotse init` asks for.
pub struct InitOptions {
    /// The region as citizens read it, e.g. "Emscher-Lippe".
    pub region: String,
    /// The first portal's city, e.g. "Bottrop".
    pub city: String,
}

/// What `lotse init` made, for its message.
#[derive(Debug)]
pub struct Created {
    pub dir: PathBuf,
    pub city_slug: String,
    pub key_file: PathBuf,
    pub files: usize,
}

/// Creates the repository in `dir`, which must not exist or be empty. Nothing is left
/// behind when it fails: the files are written next to `dir` and moved in at the end.
pub fn init(dir: &Path, options: &InitOptions) -> Result<Created> {
    let values = Values::new(options)?;
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("{} exists and is not a readable folder", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty; lotse init only writes into a new or empty folder",
                dir.display()
            );
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".lotse-init-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a folder in {}", parent.display()))?;
    let files = write_files(staging.path(), &values)?;
    let key_rel = PathBuf::from("keys")
        .join(&values.city_slug)
        .join("buergerbuero.key");
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e).with_context(|| format!("cannot create {}", dir.display()));
    }
    Ok(Created {
        dir: dir.to_path_buf(),
        city_slug: values.city_slug,
        key_file: dir.join(key_rel),
        files,
    })
}

fn write_files(root: &Path, values: &Values) -> Result<usize> {
    let city = format!("content/portals/{}", values.city_slug);
    let templated: [(String, &str); 9] = [
        ("README.md".into(), include_str!("files/README.md")),
        (".gitignore".into(), include_str!("files/gitignore")),
        ("wrangler.toml".into(), include_str!("files/wrangler.toml")),
        (
            "content/region.toml".into(),
            include_str!("files/region.toml"),
        ),
        ("content/categories.toml".into(), CATEGORIES),
        (
            format!("{city}/services/fundsache-melden.md"),
            include_str!("files/fundsache.md"),
        ),
        (
            format!("{city}/pages/impressum.md"),
            include_str!("files/impressum.md"),
        ),
        (
            format!("{city}/pages/datenschutz.md"),
            include_str!("files/datenschutz.md"),
        ),
        (
            format!("{city}/portal.toml"),
            include_str!("files/portal.toml"),
        ),
    ];
    // The key pair first: portal.toml needs its public half.
    let key_dir = root.join("keys").join(&values.city_slug);
    create_private_dir(&key_dir)?;
    let public_key = inbox::new_key(&key_dir.join("buergerbuero.key"))?;
    std::fs::create_dir_all(root.join("content/services"))?;
    for (rel, template) in &templated {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = values.fill(template, &public_key);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(templated.len() + 1)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// The placeholders' values.
struct Values {
    pairs: Vec<(&'static str, String)>,
    city_slug: String,
}

impl Values {
    fn new(options: &InitOptions) -> Result<Values> {
        let region = options.region.trim();
        let city = options.city.trim();
        let (region_slug, city_slug) = (slugify(region), slugify(city));
        if region_slug.is_empty() || city_slug.is_empty() {
            bail!("the region and the city need a name with at least one letter or digit");
        }
        if crate::check::RESERVED_AT_ROOT.contains(&city_slug.as_str()) {
            bail!("`{city_slug}` is a reserved path of the site; choose another city name");
        }
        let region_name = format!("Serviceportal {region}");
        let city_full = format!("Stadt {city}");
        let region_description = format!(
            "Das gemeinsame Serviceportal der Region {region}: Verwaltungsleistungen finden und online beantragen."
        );
        let city_description = format!(
            "Online-Dienstleistungen der {city_full}: Anträge und Auskünfte rund um Bürgerbüro und Rathaus."
        );
        let pairs = vec![
            ("region_name_toml", toml_string(&region_name)),
            ("region_description_toml", toml_string(&region_description)),
            ("region_name", region_name),
            ("region_slug", region_slug),
            ("city_full_toml", toml_string(&city_full)),
            ("city_name_toml_bare", toml_escape(city)),
            ("city_name_toml", toml_string(city)),
            ("city_description_toml", toml_string(&city_description)),
            ("city_full", city_full),
            ("city_name", city.to_string()),
            ("city_slug", city_slug.clone()),
        ];
        Ok(Values { pairs, city_slug })
    }

    fn fill(&self, template: &str, public_key: &str) -> String {
        let mut text = template.replace("{{public_key}}", public_key);
        for (name, value) in &self.pairs {
            text = text.replace(&format!("{{{{{name}}}}}"), value);
        }
        text
    }
}

/// A TOML basic string: `"…"` with quotes, backslashes and control characters escaped.
fn toml_string(value: &str) -> String {
    format!("\"{}\"", toml_escape(value))
}

fn toml_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(region: &str, city: &str) -> InitOptions {
        InitOptions {
            region: region.into(),
            city: city.into(),
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        let values = Values::new(&options("Emscher-Lippe", "Gelsenkirchen")).unwrap();
        for template in [
            include_str!("files/README.md"),
            include_str!("files/region.toml"),
            include_str!("files/portal.toml"),
            include_str!("files/wrangler.toml"),
            include_str!("files/fundsache.md"),
        ] {
            let text = values.fill(template, "KEY");
            assert!(!text.contains("{{"), "unfilled placeholder in:\n{text}");
        }
    }

    #[test]
    fn names_are_escaped_inside_toml() {
        let values = Values::new(&options("Nord \"Süd\"", "Groß\\Klein")).unwrap();
        let text = values.fill(include_str!("files/portal.toml"), "KEY");
        assert!(text.contains(r#"short_name = "Groß\\Klein""#), "{text}");
        assert!(text.contains("keys/gross-klein/buergerbuero.key"), "{text}");
    }

    #[test]
    fn refuses_a_folder_with_files_and_names_without_letters() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), "").unwrap();
        let error = init(dir.path(), &options("A", "B"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("is not empty"), "{error}");
        assert!(init(&dir.path().join("new"), &options("!!", "B")).is_err());
        assert!(!dir.path().join("new").exists());
    }
}
