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
    /// The site's origin as the runtime received the request, `scheme://host[:port]`
    /// (`https://…` from the URL on Workers, `http://` + Host under `lotse serve`).
    /// Empty when unknown: then `https://` + the Host header is assumed.
    pub origin: String,
}

impl Request {
    /// [`Request::origin`], lowercase and without a default port, as browsers serialize
    /// an `Origin` header.
    pub fn site_origin(&self) -> String {
        let origin = if self.origin.is_empty() {
            format!("https://{}", self.header("host").unwrap_or(""))
        } else {
            self.origin.clone()
        };
        normalize_origin(&origin)
    }

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

/// The name-value pairs of an `application/x-www-form-urlencoded` body, decoded as the
/// URL Standard says (`+` is a space, `%XX` a byte, a `%` without two hex digits stays
/// itself), but strictly: `None` when a decoded name or value is not UTF-8, where
/// `form_urlencoded::parse` would quietly put U+FFFD in its place.
pub fn parse_form_strict(body: &[u8]) -> Option<Vec<(String, String)>> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Some((decode_strict(name)?, decode_strict(value)?))
        })
        .collect()
}

fn decode_strict(input: &[u8]) -> Option<String> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let escaped = match input.get(i..i + 3) {
            Some([b'%', high, low]) => hex(*high).zip(hex(*low)),
            _ => None,
        };
        match (input[i], escaped) {
            (b'%', Some((high, low))) => {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// An answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Lines for the operator's log, never sent to the client: the adapters print them
    /// (`eprintln!` under `lotse serve`, `console_error!` on Workers). They name what
    /// failed and the application's id, never a token, a secret or a field value.
    pub log: Vec<String>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            log: Vec::new(),
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

    /// Adds a line for the operator's log (see [`Response::log`]).
    pub fn logged(mut self, line: impl Into<String>) -> Self {
        self.log.push(line.into());
        self
    }

    /// Adds a header without replacing others of that name (`set-cookie`).
    pub fn append_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}

/// `scheme://host[:port]` in lowercase, with the scheme's default port dropped
/// (RFC 6454 serialization), so that two spellings of one origin compare equal.
pub fn normalize_origin(origin: &str) -> String {
    let lower = origin.trim().to_ascii_lowercase();
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            if let Some(host) = rest.strip_suffix(port) {
                return format!("{scheme}{host}");
            }
        }
    }
    lower
}

#[cfg(test)]
mod tests {
    use super::parse_form_strict;

    #[test]
    fn form_bodies_decode_like_form_urlencoded() {
        let body = b"a=1+2&b=%C3%BCber&c=&d&=e&f=100%25&g=%zz%4&&h=%e2%82%ac";
        let strict = parse_form_strict(body).unwrap();
        let lossy: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        assert_eq!(strict, lossy);
        assert_eq!(strict[1], ("b".to_string(), "über".to_string()));
        assert_eq!(strict[7], ("h".to_string(), "€".to_string()));
    }

    #[test]
    fn invalid_utf8_in_a_form_body_is_refused() {
        for body in [
            &b"name=%FF"[..],
            b"name=%C3",
            b"name=ok&notiz=%ED%A0%80",
            b"%FF=x",
            b"name=\xff",
            b"name=%C0%AF",
        ] {
            assert_eq!(
                parse_form_strict(body),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
