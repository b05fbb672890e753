//! Where the services of one portal come from: the regional files that list it, its
//! local files, and the overrides between them. Resolution merges by this plan; the
//! check stage (`check/layers.rs`) reports the files it had to leave out.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostics::Loc;
use crate::load::{Content, LoadedPortal, ServiceDraft};

/// The source of one service of a portal: a regional or local file (`base`), and the
/// local override on top of it, if any.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub base: &'a ServiceDraft,
    pub local: Option<&'a ServiceDraft>,
}

impl<'a> Entry<'a> {
    /// The value of a key: the override's if it sets it, else the base's.
    pub fn pick<T: ?Sized>(
        &self,
        key: impl Fn(&'a ServiceDraft) -> Option<&'a T>,
    ) -> Option<&'a T> {
        self.local.and_then(&key).or_else(|| key(self.base))
    }

    /// The file the merged service is reported at (the override's, if there is one).
    pub fn path(&self) -> &'a Arc<str> {
        self.local.map_or(&self.base.path, |l| &l.path)
    }

    /// The file whose body the service shows, if it has one.
    pub fn body_source(&self) -> Option<&'a ServiceDraft> {
        self.local
            .filter(|l| l.body.is_some())
            .or(Some(self.base).filter(|b| b.body.is_some()))
    }

    /// The merged draft: every key the override sets wins as a whole.
    pub fn draft(&self) -> ServiceDraft {
        match self.local {
            Some(local) => merge(local, self.base),
            None => self.base.clone(),
        }
    }
}

/// Why a local file was left out of its portal.
pub enum Rejection<'a> {
    /// No `extends`, but a service of the same slug is already offered.
    SameSlug,
    /// `extends` names no regional service.
    UnknownExtends,
    /// A second override of the same service; the first is at this position.
    AlreadyOverridden(&'a Loc),
    /// The override would publish at the address of this local service.
    OverLocal(&'a Arc<str>),
}

/// The plan of one portal.
#[derive(Default)]
pub struct Layers<'a> {
    /// One entry per service, regional ones in file order, then local ones.
    pub entries: Vec<Entry<'a>>,
    /// Local files left out, and why.
    pub rejected: Vec<(&'a ServiceDraft, Rejection<'a>)>,
    /// Accepted overrides whose file name is the slug of another service.
    pub clashing_names: Vec<&'a ServiceDraft>,
    /// Accepted overrides of a regional service that does not list this portal.
    pub added: Vec<&'a ServiceDraft>,
}

/// Regional services by slug.
pub fn regional(content: &Content) -> HashMap<&str, &ServiceDraft> {
    content
        .services
        .iter()
        .map(|s| (s.slug.as_str(), s))
        .collect()
}

pub fn offers(draft: &ServiceDraft, portal: &str) -> bool {
    draft
        .portals
        .as_ref()
        .is_some_and(|list| list.iter().any(|p| p.value == "*" || p.value == portal))
}

/// Plans the services of `loaded`.
pub fn plan<'a>(
    content: &'a Content,
    regional: &HashMap<&str, &'a ServiceDraft>,
    loaded: &'a LoadedPortal,
) -> Layers<'a> {
    let slug = loaded.config.portal.slug.as_str();
    let mut layers = Layers::default();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for draft in content.services.iter().filter(|d| offers(d, slug)) {
        position.insert(&draft.slug, layers.entries.len());
        layers.entries.push(Entry {
            base: draft,
            local: None,
        });
    }
    let mut overridden: HashMap<&str, &Loc> = HashMap::new();
    let mut local_only: HashMap<&str, &Arc<str>> = HashMap::new();
    for local in &loaded.services {
        let Some(target) = &local.extends else {
            if position.contains_key(local.slug.as_str()) {
                layers.rejected.push((local, Rejection::SameSlug));
                continue;
            }
            position.insert(&local.slug, layers.entries.len());
            local_only.insert(&local.slug, &local.path);
            layers.entries.push(Entry {
                base: local,
                local: None,
            });
            continue;
        };
        let Some(base) = regional.get(target.value.as_str()).copied() else {
            layers.rejected.push((local, Rejection::UnknownExtends));
            continue;
        };
        if let Some(first) = overridden.get(base.slug.as_str()) {
            layers
                .rejected
                .push((local, Rejection::AlreadyOverridden(first)));
            continue;
        }
        if let Some(path) = local_only.get(base.slug.as_str()) {
            layers.rejected.push((local, Rejection::OverLocal(path)));
            continue;
        }
        overridden.insert(&base.slug, &target.loc);
        if local.slug != base.slug && position.contains_key(local.slug.as_str()) {
            layers.clashing_names.push(local);
        }
        let entry = Entry {
            base,
            local: Some(local),
        };
        match position.get(base.slug.as_str()) {
            Some(&i) => layers.entries[i] = entry,
            None => {
                layers.added.push(local);
                position.insert(&base.slug, layers.entries.len());
                layers.entries.push(entry);
            }
        }
    }
    layers
}

/// A local override on top of its regional service: every key the override sets wins
/// as a whole (`[form]`, `[payment]` and `appointment` as whole tables); the rest is
/// inherited.
fn merge(local: &ServiceDraft, base: &ServiceDraft) -> ServiceDraft {
    fn pick<T: Clone>(local: &Option<T>, base: &Option<T>) -> Option<T> {
        local.as_ref().or(base.as_ref()).cloned()
    }
    let body_from = if local.body.is_some() { local } else { base };
    ServiceDraft {
        slug: base.slug.clone(),
        path: local.path.clone(),
        title: pick(&local.title, &base.title),
        summary: pick(&local.summary, &base.summary),
        categories: pick(&local.categories, &base.categories),
        portals: base.portals.clone(),
        extends: local.extends.clone(),
        office: pick(&local.office, &base.office),
        provider: pick(&local.provider, &base.provider),
        url: pick(&local.url, &base.url),
        leika: pick(&local.leika, &base.leika),
        keywords: pick(&local.keywords, &base.keywords),
        documents: pick(&local.documents, &base.documents),
        fees: pick(&local.fees, &base.fees),
        deadlines: pick(&local.deadlines, &base.deadlines),
        legal_basis: pick(&local.legal_basis, &base.legal_basis),
        processing_time: pick(&local.processing_time, &base.processing_time),
        login: pick(&local.login, &base.login),
        form: pick(&local.form, &base.form),
        payment: pick(&local.payment, &base.payment),
        appointment: pick(&local.appointment, &base.appointment),
        aliases: pick(&local.aliases, &base.aliases),
        body: body_from.body.clone(),
        links: body_from.links.clone(),
    }
}

/// The path an alias leads to in `portal`, or `None` when it does not apply there: a
/// relative alias (`alter-name`) applies in every portal showing the service, an
/// absolute one (`/bottrop/alter-name/`) only in the portal whose folder it starts with.
pub fn alias_path(portal: &str, alias: &str) -> Option<String> {
    let inner = alias.trim_matches('/');
    if alias.starts_with('/') {
        let rest = inner.strip_prefix(portal)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| format!("/{inner}/"))
    } else {
        Some(format!("/{portal}/{inner}/"))
    }
}

#[cfg(test)]
mod tests {
    use super::alias_path;

    #[test]
    fn aliases_apply_per_portal() {
        assert_eq!(
            alias_path("bottrop", "alter-name").as_deref(),
            Some("/bottrop/alter-name/")
        );
        assert_eq!(
            alias_path("bottrop", "/bottrop/alt/hund").as_deref(),
            Some("/bottrop/alt/hund/")
        );
        assert_eq!(alias_path("marl", "/bottrop/alter-name/"), None);
        assert_eq!(alias_path("bottrop", "/bottropx/alt/"), None);
    }
}
