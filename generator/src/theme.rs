//! The theme: Tera templates and static files. The default theme is built into `lotse`
//! (generator/build.rs embeds `themes/default/`); a theme folder overrides it file by
//! file, as Zola's and Hugo's template lookup does: a file at the same relative path
//! replaces the built-in one, a new file is added. docs/theme.md shows how.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use tera::ast::{Block, Node};
use tera::{Template, Tera};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_theme.rs"));
}

/// The templates the renderer asks for by name; the built-in theme has them all.
pub const PAGE_TEMPLATES: [&str; 9] = [
    "umbrella_home.html",
    "umbrella_category.html",
    "portal_home.html",
    "portal_category.html",
    "service.html",
    "az.html",
    "page.html",
    "search.html",
    "404.html",
];

/// Where a theme file came from, for messages.
#[derive(Clone, Debug)]
enum Origin {
    BuiltIn,
    Folder(PathBuf),
}

impl Origin {
    fn describe(&self, rel: &str) -> String {
        match self {
            Origin::BuiltIn => format!("built-in theme {rel}"),
            Origin::Folder(dir) => dir.join(rel).display().to_string(),
        }
    }
}

struct ThemeFile {
    bytes: Vec<u8>,
    origin: Origin,
}

/// A theme: its templates, parsed once, and its static files.
pub struct Theme {
    pub(crate) tera: Tera,
    pub(crate) static_files: Vec<(String, Vec<u8>)>,
    pub(crate) asset_version: String,
    /// SHA-256 of every template and static file: a page rendered with another theme
    /// is rendered again (`render::stamps`).
    pub(crate) stamp: [u8; 32],
}

impl Theme {
    /// The built-in theme alone.
    pub fn built_in() -> Result<Theme> {
        Theme::load(None)
    }

    /// The built-in theme, overridden file by file by `folder` when given (a missing
    /// folder overrides nothing: a region's repository usually has none).
    pub fn load(folder: Option<&Path>) -> Result<Theme> {
        let mut files = built_in_files();
        if let Some(dir) = folder.filter(|d| d.exists()) {
            overlay(&mut files, dir).with_context(|| {
                format!("themes: {}: cannot read the theme folder", dir.display())
            })?;
        }
        let stamp = stamp_of(&files);
        let templates = parse_templates(&files)?;
        check_references(&templates, &files)?;
        let mut tera = Tera::default();
        tera.set_escape_fn(escape_html);
        tera.register_function("form_field", FormFieldFunction);
        tera.add_raw_templates(
            templates
                .keys()
                .map(|name| (name.clone(), text_of(&files[&format!("templates/{name}")]))),
        )
        .map_err(|e| anyhow!("themes: {}", tera_error_chain(&e)))?;
        let static_files: Vec<(String, Vec<u8>)> = files
            .into_iter()
            .filter_map(|(rel, file)| {
                rel.strip_prefix("static/")
                    .map(|name| (name.to_string(), file.bytes))
            })
            .collect();
        let mut hasher = DefaultHasher::new();
        static_files.hash(&mut hasher);
        Ok(Theme {
            tera,
            static_files,
            asset_version: format!("{:08x}", hasher.finish() as u32),
            stamp,
        })
    }
}

fn stamp_of(files: &BTreeMap<String, ThemeFile>) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for (rel, file) in files {
        hash.update((rel.len() as u64).to_le_bytes());
        hash.update(rel.as_bytes());
        hash.update((file.bytes.len() as u64).to_le_bytes());
        hash.update(&file.bytes);
    }
    hash.finalize().into()
}

/// The built-in theme's files by relative path (`templates/…`, `static/…`).
fn built_in_files() -> BTreeMap<String, ThemeFile> {
    embedded::THEME_FILES
        .iter()
        .map(|(rel, bytes)| {
            let file = ThemeFile {
                bytes: bytes.to_vec(),
                origin: Origin::BuiltIn,
            };
            (rel.to_string(), file)
        })
        .collect()
}

/// Replaces or adds every file under `dir`'s `templates/` and `static/`.
fn overlay(files: &mut BTreeMap<String, ThemeFile>, dir: &Path) -> std::io::Result<()> {
    for part in ["templates", "static"] {
        let mut found = Vec::new();
        collect_files(&dir.join(part), &format!("{part}/"), &mut found)?;
        for (rel, bytes) in found {
            let origin = Origin::Folder(dir.to_path_buf());
            files.insert(rel, ThemeFile { bytes, origin });
        }
    }
    Ok(())
}

fn collect_files(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{prefix}{name}");
        if entry.file_type()?.is_dir() {
            collect_files(&entry.path(), &format!("{rel}/"), out)?;
        } else {
            out.push((rel, std::fs::read(entry.path())?));
        }
    }
    Ok(())
}

fn text_of(file: &ThemeFile) -> String {
    String::from_utf8_lossy(&file.bytes).into_owned()
}

/// Parses every template on its own, so that a syntax error names its file.
fn parse_templates(files: &BTreeMap<String, ThemeFile>) -> Result<BTreeMap<String, Template>> {
    let mut templates = BTreeMap::new();
    for (rel, file) in files {
        let Some(name) = rel.strip_prefix("templates/") else {
            continue;
        };
        if !name.ends_with(".html") {
            continue;
        }
        let source = std::str::from_utf8(&file.bytes)
            .map_err(|_| anyhow!("themes: {}: not UTF-8 text", file.origin.describe(rel)))?;
        let template = Template::new(name, None, source).map_err(|e| {
            anyhow!(
                "themes: {}: {}",
                file.origin.describe(rel),
                tera_error_chain(&e)
            )
        })?;
        templates.insert(name.to_string(), template);
    }
    Ok(templates)
}

/// Every template a template extends, includes or imports must exist; Tera would only
/// say so at render time, and without naming the file that asked for it.
fn check_references(
    templates: &BTreeMap<String, Template>,
    files: &BTreeMap<String, ThemeFile>,
) -> Result<()> {
    let known: BTreeSet<&str> = templates.keys().map(String::as_str).collect();
    for (name, template) in templates {
        let mut wanted = Vec::new();
        referenced(&template.ast, &mut wanted);
        for (how, target) in wanted {
            if !known.contains(target.as_str()) {
                let rel = format!("templates/{name}");
                let names: Vec<&str> = known.iter().copied().collect();
                return Err(anyhow!(
                    "themes: {}: template `{name}` {how} `{target}`, which is neither in the theme folder nor built in{}",
                    files[&rel].origin.describe(&rel),
                    crate::diagnostics::hint(&target, &names)
                ));
            }
        }
    }
    for page in PAGE_TEMPLATES {
        if !known.contains(page) {
            return Err(anyhow!("themes: the theme has no template `{page}`"));
        }
    }
    Ok(())
}

/// The templates `nodes` name: (`extends` | `includes` | `imports`, name).
fn referenced(nodes: &[Node], out: &mut Vec<(&'static str, String)>) {
    let blocks = |body: &[Node], out: &mut Vec<(&'static str, String)>| referenced(body, out);
    for node in nodes {
        match node {
            Node::Extends(_, name) => out.push(("extends", name.clone())),
            // `ignore missing` includes may name templates that do not exist.
            Node::Include(_, names, false) => {
                out.extend(names.iter().map(|n| ("includes", n.clone())))
            }
            Node::ImportMacro(_, name, _) => out.push(("imports", name.clone())),
            Node::Block(_, Block { body, .. }, _) => blocks(body, out),
            Node::MacroDefinition(_, definition, _) => blocks(&definition.body, out),
            Node::FilterSection(_, section, _) => blocks(&section.body, out),
            Node::Forloop(_, forloop, _) => {
                blocks(&forloop.body, out);
                if let Some(empty) = &forloop.empty_body {
                    blocks(empty, out);
                }
            }
            Node::If(condition, _) => {
                for (_, _, body) in &condition.conditions {
                    blocks(body, out);
                }
                if let Some((_, body)) = &condition.otherwise {
                    blocks(body, out);
                }
            }
            _ => {}
        }
    }
}

/// HTML escaping for text and attribute values: the one of `lotse_model::markup`, which
/// form fields and the functions' pages use too. Tera's default also escapes `/`, which
/// is safe but bloats every URL on a page by a third.
pub(crate) use lotse_model::markup::escape as escape_html;

/// `form_field(field=f)`: the markup of one form field (`field="notify_email"`: the
/// optional address for notifications, `lotse_model::form::notify_field`), from `lotse_model::markup`, the
/// same function the functions' form with errors uses. `field` is an entry of a form's
/// `fields` (its `schema` is the field as in the form schema) or such a schema entry;
/// `value` and `error` (optional strings) are what to show in it.
struct FormFieldFunction;

impl tera::Function for FormFieldFunction {
    fn call(
        &self,
        args: &std::collections::HashMap<String, tera::Value>,
    ) -> tera::Result<tera::Value> {
        let given = args
            .get("field")
            .ok_or_else(|| tera::Error::msg("form_field: the argument `field` is missing"))?;
        let field: lotse_model::FormField = match given.as_str() {
            // The optional address for notifications every form offers.
            Some(lotse_model::form::NOTIFY_FIELD) => lotse_model::form::notify_field(),
            _ => {
                let schema = given.get("schema").unwrap_or(given);
                serde_json::from_value(schema.clone()).map_err(|e| {
                    tera::Error::msg(format!("form_field: `field` is not a form field: {e}"))
                })?
            }
        };
        let text = |name: &str| -> tera::Result<Option<&str>> {
            match args.get(name) {
                None | Some(tera::Value::Null) => Ok(None),
                Some(tera::Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(tera::Error::msg(format!(
                    "form_field: `{name}` must be a string"
                ))),
            }
        };
        let value = text("value")?.unwrap_or("");
        let error = text("error")?.filter(|e| !e.is_empty());
        Ok(tera::Value::String(lotse_model::markup::render_field(
            &field, value, error,
        )))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// Tera hides the useful part of its errors (which variable, which line) in the source
/// chain.
pub(crate) fn tera_error_chain(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn built_in_theme_has_every_page_template_and_the_stylesheet() {
        let theme = Theme::built_in().unwrap();
        for page in PAGE_TEMPLATES {
            assert!(theme.tera.get_template(page).is_ok(), "{page}");
        }
        assert!(theme.static_files.iter().any(|(p, _)| p == "style.css"));
    }

    #[test]
    fn a_folder_overrides_one_file_and_keeps_the_rest() {
        let dir = folder_with(&[
            (
                "templates/404.html",
                "{% extends \"base.html\" %}{% block main %}Weg!{% endblock %}",
            ),
            ("static/extra.css", "p{}"),
        ]);
        let theme = Theme::load(Some(dir.path())).unwrap();
        let source = theme.tera.get_template("404.html").unwrap();
        assert!(format!("{:?}", source.ast).contains("Weg!"));
        assert!(theme.tera.get_template("service.html").is_ok());
        let names: Vec<&str> = theme.static_files.iter().map(|(p, _)| p.as_str()).collect();
        assert!(
            names.contains(&"extra.css") && names.contains(&"style.css"),
            "{names:?}"
        );
        assert_ne!(
            theme.asset_version,
            Theme::built_in().unwrap().asset_version
        );
    }

    #[test]
    fn a_missing_include_names_the_file_and_the_template() {
        let dir = folder_with(&[(
            "templates/service.html",
            "{% extends \"base.html\" %}{% block main %}{% include \"kontakt.html\" %}{% endblock %}",
        )]);
        let error = Theme::load(Some(dir.path())).err().unwrap().to_string();
        let file = dir.path().join("templates/service.html");
        assert!(error.starts_with("themes: "), "{error}");
        assert!(error.contains(&file.display().to_string()), "{error}");
        assert!(error.contains("includes `kontakt.html`"), "{error}");
    }

    #[test]
    fn a_missing_parent_and_a_syntax_error_name_their_file() {
        let dir = folder_with(&[("templates/az.html", "{% extends \"basis.html\" %}")]);
        let error = Theme::load(Some(dir.path())).err().unwrap().to_string();
        assert!(error.contains("extends `basis.html`"), "{error}");
        assert!(error.contains("did you mean `base.html`?"), "{error}");

        let dir = folder_with(&[("templates/az.html", "{% if %}")]);
        let error = Theme::load(Some(dir.path())).err().unwrap().to_string();
        assert!(error.contains("templates/az.html"), "{error}");
    }

    #[test]
    fn any_template_can_render_a_form_field() {
        let dir = folder_with(&[(
            "templates/feld.html",
            "{{ form_field(field=f, value=v, error=e) }}|{{ form_field(field=f.schema) }}",
        )]);
        let theme = Theme::load(Some(dir.path())).unwrap();
        let field = lotse_model::FormField {
            required: true,
            ..lotse_model::FormField::new("ort", "Ort <Gemeinde>", lotse_model::FieldType::Text)
        };
        let mut context = tera::Context::new();
        context.insert(
            "f",
            &serde_json::json!({ "label": "ignored", "schema": field }),
        );
        context.insert("v", "Am Markt");
        context.insert("e", "Bitte prüfen");
        let html = theme.tera.render("feld.html", &context).unwrap();
        let (with_error, fresh) = html.split_once('|').unwrap();
        use lotse_model::markup::render_field;
        assert_eq!(
            with_error,
            render_field(&field, "Am Markt", Some("Bitte prüfen"))
        );
        assert_eq!(fresh, render_field(&field, "", None));
        assert!(
            fresh.contains("Ort &lt;Gemeinde&gt;"),
            "escaped once: {fresh}"
        );

        context.insert("f", &serde_json::json!({ "label": "Ort" }));
        let error = theme.tera.render("feld.html", &context).err().unwrap();
        let chain = tera_error_chain(&error);
        assert!(
            chain.contains("form_field: `field` is not a form field"),
            "{chain}"
        );
    }

    #[test]
    fn a_missing_folder_overrides_nothing() {
        let theme = Theme::load(Some(Path::new("/nonexistent/theme"))).unwrap();
        assert_eq!(
            theme.asset_version,
            Theme::built_in().unwrap().asset_version
        );
    }
}
