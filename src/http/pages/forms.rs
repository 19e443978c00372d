//! Forms: the body as fields, and the CSRF check every form post passes first.
//!
//! Two independent defences. The browser says where a post comes from (`Sec-Fetch-Site`,
//! `Origin`): anything from another site is refused. And every form carries the browser's
//! CSRF secret (the `csrf` cookie, `HttpOnly`, `SameSite=Strict`, readable by no script and
//! sent by no other site) as a hidden field; a post whose field does not match the cookie is
//! refused (double-submit).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::reader::{CSRF_COOKIE, cookie};
use super::{Reader, message};
use crate::http::HttpState;

/// A form's fields (the last value of a repeated name wins; see [`Form::all`] for lists).
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self {
            pairs: url::form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A field's value, or empty.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// Every value of a repeated field (checkboxes of one name), in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.pairs
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every field with this prefix, without the prefix, with its value.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.pairs.iter().filter_map(move |(key, value)| {
            key.strip_prefix(prefix).map(|rest| (rest, value.as_str()))
        })
    }
}

/// A posted form that passed the CSRF check, or the refusal page.
#[allow(clippy::result_large_err)]
pub fn checked(
    state: &HttpState,
    headers: &HeaderMap,
    reader: &Reader,
    body: &[u8],
) -> Result<Form, Response> {
    let form = Form::parse(body);
    match check(headers, &form) {
        Ok(()) => Ok(form),
        Err(why) => Err(csrf_refusal(state, reader, &why)),
    }
}

/// Why a post was refused as a possible cross-site request forgery.
#[derive(Debug, PartialEq, Eq)]
pub enum Forgery {
    CrossSite,
    MissingToken,
    WrongToken,
}

/// Checks where a post comes from and its CSRF field.
pub fn check(headers: &HeaderMap, form: &Form) -> Result<(), Forgery> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(Forgery::CrossSite);
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin = origin.to_str().unwrap_or("null");
        let same = host.is_some_and(|host| {
            origin == format!("http://{host}") || origin == format!("https://{host}")
        });
        if !same {
            tracing::debug!(origin, ?host, "Origin");
            return Err(Forgery::CrossSite);
        }
    }
    let (Some(expected), Some(sent)) = (cookie(headers, CSRF_COOKIE), form.get("csrf")) else {
        return Err(Forgery::MissingToken);
    };
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), sent.as_bytes()) {
        return Err(Forgery::WrongToken);
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The page that refuses a forged (or expired) form post: 403, with a way to try again.
pub fn csrf_refusal(state: &HttpState, reader: &Reader, why: &Forgery) -> Response {
    tracing::warn!(?why, "a form post was refused as cross-site");
    message(state, reader, StatusCode::FORBIDDEN, "forbidden_form")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn only_a_same_site_post_with_the_browsers_token_passes() {
        let ok = Form::parse(b"csrf=abc&email=a%40b.fi");
        let own = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
            ("cookie", "csrf=abc"),
        ]);
        assert_eq!(check(&own, &ok), Ok(()));
        assert_eq!(ok.get("email"), Some("a@b.fi"));
        // No browser hints at all (an old browser): the token alone decides.
        assert_eq!(check(&headers(&[("cookie", "csrf=abc")]), &ok), Ok(()));

        let other_site = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
            ("cookie", "csrf=abc"),
        ]);
        assert_eq!(check(&other_site, &ok), Err(Forgery::CrossSite));
        let fetched = headers(&[("sec-fetch-site", "cross-site"), ("cookie", "csrf=abc")]);
        assert_eq!(check(&fetched, &ok), Err(Forgery::CrossSite));
        let null_origin = headers(&[("origin", "null"), ("cookie", "csrf=abc")]);
        assert_eq!(check(&null_origin, &ok), Err(Forgery::CrossSite));

        let no_field = Form::parse(b"email=a");
        assert_eq!(check(&own, &no_field), Err(Forgery::MissingToken));
        assert_eq!(
            check(&headers(&[("host", "h")]), &ok),
            Err(Forgery::MissingToken)
        );
        let wrong = Form::parse(b"csrf=abd");
        assert_eq!(check(&own, &wrong), Err(Forgery::WrongToken));
        let empty = headers(&[("cookie", "csrf=")]);
        assert_eq!(
            check(&empty, &Form::parse(b"csrf=")),
            Err(Forgery::WrongToken)
        );
    }
}
