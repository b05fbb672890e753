//! A runtime-neutral HTTP request and response. The worker and `lotse serve` convert
//! their own types to and from these, so every handler is plain, testable Rust.

/// An incoming request.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    /// Path without query, e.g. `/api/applications/7K3M-9QPX`.
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client's address (CF-Connecting-IP on Workers, the peer under `lotse serve`);
    /// only ever stored hashed, for rate limiting.
    pub client: String,
    /// The time of the request in milliseconds since the Unix epoch. Passed in because
    /// WebAssembly has no system clock.
    pub now_ms: u64,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// An answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::new(status, "application/json", value.to_string())
    }

    pub fn html(status: u16, html: String) -> Self {
        Response::new(status, "text/html; charset=utf-8", html)
    }

    pub fn redirect(location: &str) -> Self {
        let mut response = Response::new(303, "text/plain; charset=utf-8", "");
        response.headers.push(("location".into(), location.into()));
        response
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds a header without replacing others of that name (`set-cookie`).
    pub fn append_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}
