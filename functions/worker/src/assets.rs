//! Form schemas from the static assets: the generator writes
//! `dist/forms/<portal>/<service>.json`, and the `ASSETS` binding serves dist/.

use lotse_functions::{offices_path, Forms, OfficeList};
use lotse_model::slug::is_slug;
use lotse_model::FormSchema;
use worker::{console_error, Fetcher};

thread_local! {
    /// [`AssetForms::office_login`] once this isolate has read it.
    static OFFICE_LOGIN: std::cell::RefCell<Option<lotse_model::OfficeLoginConfig>> =
        const { std::cell::RefCell::new(None) };
}

pub struct AssetForms {
    assets: Fetcher,
}

impl AssetForms {
    pub fn new(assets: Fetcher) -> Self {
        AssetForms { assets }
    }
}

/// The asset path of a form schema, or `None` when portal or service is not a slug (so no
/// request can reach outside `/forms/` or into another file).
pub fn schema_path(portal: &str, service: &str) -> Option<String> {
    (is_slug(portal) && is_slug(service)).then(|| format!("/forms/{portal}/{service}.json"))
}

impl AssetForms {
    /// A JSON asset, or `None` when it is missing or does not parse.
    async fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Option<T> {
        // The host is ignored by the assets binding; only the path matters.
        let mut response = match self
            .assets
            .fetch(format!("https://assets.invalid{path}"), None)
            .await
        {
            Ok(response) => response,
            Err(e) => {
                console_error!("{path}: assets fetch failed: {e}");
                return None;
            }
        };
        // A missing file answers 404 (with dist/404.html as its body).
        if response.status_code() != 200 {
            return None;
        }
        match response.json::<T>().await {
            Ok(value) => Some(value),
            Err(e) => {
                console_error!("{path} does not parse: {e}");
                None
            }
        }
    }
}

impl AssetForms {
    /// region.toml's `[office_login]`, as `lotse build` wrote it; `None` without one.
    /// Kept once read (per isolate): the assets are the deployment's and do not change
    /// under it, and every office API request needs it. A miss is not kept, so that a
    /// failed fetch does not switch staff login off for the isolate's life.
    pub async fn office_login(&self) -> Option<lotse_model::OfficeLoginConfig> {
        if let Some(known) = OFFICE_LOGIN.with(|cell| cell.borrow().clone()) {
            return Some(known);
        }
        let read: Option<lotse_model::OfficeLoginConfig> = self
            .json(&format!("/{}", lotse_functions::OFFICE_LOGIN_ASSET))
            .await;
        if let Some(config) = &read {
            OFFICE_LOGIN.with(|cell| *cell.borrow_mut() = Some(config.clone()));
        }
        read
    }
}

impl Forms for AssetForms {
    async fn offices(&self, portal: &str) -> Option<Vec<String>> {
        if !is_slug(portal) {
            return None;
        }
        let path = format!("/{}", offices_path(portal));
        let list: OfficeList = self.json(&path).await?;
        (list.portal == portal).then_some(list.offices)
    }

    async fn appointment(
        &self,
        portal: &str,
        service: &str,
    ) -> Option<lotse_model::appointment::BookableService> {
        if !(is_slug(portal) && is_slug(service)) {
            return None;
        }
        let path = format!(
            "/{}",
            lotse_model::appointment::appointment_path(portal, service)
        );
        self.json(&path).await
    }

    async fn schema(&self, portal: &str, service: &str) -> Option<FormSchema> {
        let path = schema_path(portal, service)?;
        let schema: FormSchema = self.json(&path).await?;
        if schema.portal == portal && schema.service == service {
            Some(schema)
        } else {
            console_error!("form schema {path} names another portal or service");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_slugs_make_a_path() {
        assert_eq!(
            schema_path("bottrop", "hund-anmelden").as_deref(),
            Some("/forms/bottrop/hund-anmelden.json")
        );
        for (portal, service) in [
            ("..", "x"),
            ("bottrop", "../../secret"),
            ("bottrop", "a/b"),
            ("Bottrop", "x"),
            ("", "x"),
            ("bottrop", "x.json"),
            ("bottrop", "x%2f"),
        ] {
            assert_eq!(schema_path(portal, service), None, "{portal}/{service}");
        }
    }
}
