//! The Lotse content model: what a region, its portals, offices and services are once
//! loaded and resolved, and the form schema that the generator renders and the edge
//! functions validate against.
//!
//! This crate is shared with the WebAssembly functions, so it holds plain data and pure
//! functions only: no file system, no template engine, no TOML parsing. `markup` is the
//! HTML of a form field, built as a string, for the theme and the functions alike.

pub mod appointment;
pub mod calendar;
pub mod form;
pub mod markup;
pub mod payment;
pub mod region;
pub mod service;
pub mod slug;
pub mod validate;

pub use form::{FieldType, Form, FormField, FormSchema};
pub use region::{
    AcrMap, Category, LoginConfig, Office, OfficeLoginConfig, Portal, PortalKind, Region, Theme,
};
pub use service::{Provider, Service, TrustLevel};
pub use slug::slugify;
