//! Who reads a page: their language, their session (if signed in), their CSRF token and the
//! page they asked for (to come back to after signing in).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::Lang;
use crate::auth::service::authenticate;
use crate::error::AppError;
use crate::http::HttpState;
use crate::values::viewer::Viewer;

/// The cookie that holds a signed-in browser's session token.
pub const SESSION_COOKIE: &str = "session";
/// The cookie that holds the browser's CSRF secret; every form echoes it.
pub const CSRF_COOKIE: &str = "csrf";

/// The reader of one request.
pub struct Reader {
    pub lang: Lang,
    /// A language chosen with `?lang=` just now, to remember in a cookie.
    pub chosen: Option<Lang>,
    pub viewer: Option<Viewer>,
    /// The browser sent a session cookie that no longer works: it is cleared.
    pub stale_session: bool,
    /// The CSRF token the page's forms carry.
    pub csrf: String,
    /// The CSRF cookie is new and must be set.
    pub new_csrf: bool,
    /// The path and query the reader asked for.
    pub here: String,
    /// Cookies get `Secure` (the service is reached over https).
    pub secure: bool,
    /// The client's address, for the login throttle.
    pub ip: Option<std::net::IpAddr>,
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A query parameter's value (percent-decoded).
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A fresh random CSRF secret.
fn new_csrf() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a CSRF cookie looks like one this service set (anything else is replaced).
fn well_formed(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl FromRequestParts<HttpState> for Reader {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let query = parts.uri.query();
        let chosen_param = query_param(query, "lang");
        let secure = state.app.config.public_url.scheme() == "https";
        let here = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());

        let mut viewer = None;
        let mut stale_session = false;
        if let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) {
            match authenticate(&state.app.db, token).await {
                Ok(found) => viewer = Some(found),
                Err(AppError::Unauthenticated) => stale_session = true,
                Err(err) => {
                    err.log_if_internal();
                    let (lang, _) = Lang::negotiate(chosen_param.as_deref(), headers);
                    return Err(super::error_page(state, lang));
                }
            }
        }
        let (negotiated, chosen) = Lang::negotiate(chosen_param.as_deref(), headers);
        // A signed-in reader's own language, unless they chose another in this browser.
        let lang = match (&viewer, chosen, cookie(headers, super::lang::COOKIE)) {
            (Some(v), None, None) => Lang::from_locale(v.user.locale),
            _ => negotiated,
        };
        let (csrf, new_csrf) = match cookie(headers, CSRF_COOKIE).filter(|t| well_formed(t)) {
            Some(token) => (token.to_owned(), false),
            None => (new_csrf(), true),
        };
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| {
                crate::http::client_ip::client_ip(
                    info.0,
                    headers,
                    &state.app.config.trusted_proxies,
                )
            });
        Ok(Self {
            ip,
            lang,
            chosen,
            viewer,
            stale_session,
            csrf,
            new_csrf,
            here,
            secure,
        })
    }
}

impl Reader {
    /// The `Set-Cookie` values this reader's response carries.
    pub fn cookies(&self) -> Vec<String> {
        let secure = if self.secure { "; Secure" } else { "" };
        let mut out = Vec::new();
        if let Some(lang) = self.chosen {
            out.push(format!("{}{secure}", lang.cookie()));
        }
        if self.new_csrf {
            out.push(format!(
                "{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{secure}",
                self.csrf
            ));
        }
        if self.stale_session {
            out.push(clear_session(self.secure));
        }
        out
    }
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn clear_session(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_parameters_are_read_exactly() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; session=abc".parse().unwrap());
        headers.append(header::COOKIE, "csrf=x".parse().unwrap());
        assert_eq!(cookie(&headers, "session"), Some("abc"));
        assert_eq!(cookie(&headers, "csrf"), Some("x"));
        assert_eq!(cookie(&headers, "sess"), None);
        assert_eq!(
            query_param(Some("q=etä%20opetus&lang=fi"), "q").as_deref(),
            Some("etä opetus")
        );
        assert_eq!(query_param(None, "q"), None);
        assert!(well_formed(&new_csrf()));
        assert!(!well_formed("short"));
    }
}
