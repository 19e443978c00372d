//! Browser-facing protections: security headers on every response and a CORS allowlist.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a CORS preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// Non-HTML responses (JSON, feeds, metrics) load nothing and may not be framed.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// CORS for the configured origins only: GET and POST with `Authorization` and `Content-Type`.
/// With no origins configured, browsers keep other sites' pages from calling the API.
pub fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(PREFLIGHT_MAX_AGE)
}

/// Whether the public URL is served over HTTPS (then browsers are told to stay on it).
#[derive(Clone, Copy)]
pub struct Https(pub bool);

/// Adds `nosniff`, no framing, no referrer to other sites and, for non-HTML responses, a CSP that allows
/// nothing; HSTS when the service is public over HTTPS.
pub async fn headers(State(https): State<Https>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`: no address (with a token in it, say) ever reaches another site, while
    // this site's own form posts keep their `Origin` (under `no-referrer` browsers send
    // `Origin: null`, which the forms' CSRF check must refuse).
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_html {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(API_CSP));
    }
    if https.0 {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-site"),
    );
    response
}
