//! GraphiQL, served by the binary itself: production builds of GraphiQL and React (see
//! `vendor/README.md`) under a Content-Security-Policy that lets the page load scripts and
//! styles from this origin only and talk to this origin only. Nothing comes from a CDN.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The vendored versions, part of every asset URL, so that browsers may cache the files for good.
const VERSION: &str = "graphiql-3.9.0-react-18.3.1";

/// Scripts and styles from this origin only; no inline script, no `eval`; requests to this
/// origin only (WebSockets included); inline styles allowed, because GraphiQL's editor sets
/// element styles; never framed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("vendor/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("vendor/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("vendor/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("vendor/react-dom.production.min.js"),
    ),
    (
        "boot.js",
        "text/javascript; charset=utf-8",
        include_bytes!("boot.js"),
    ),
];

/// The GraphiQL page.
pub fn page() -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Digimentor GraphiQL</title>\n\
         <link rel=\"stylesheet\" href=\"/graphiql/{VERSION}/graphiql.min.css\">\n\
         <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>\n\
         </head>\n<body>\n<div id=\"graphiql\">Loading GraphiQL…</div>\n\
         <script src=\"/graphiql/{VERSION}/react.production.min.js\"></script>\n\
         <script src=\"/graphiql/{VERSION}/react-dom.production.min.js\"></script>\n\
         <script src=\"/graphiql/{VERSION}/graphiql.min.js\"></script>\n\
         <script src=\"/graphiql/{VERSION}/boot.js\"></script>\n\
         </body>\n</html>\n"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        html,
    )
        .into_response()
}

/// `/graphiql/{version}/{file}`: one of the vendored files; anything else is 404.
pub async fn asset(Path((version, file)): Path<(String, String)>) -> Response {
    let found = ASSETS
        .iter()
        .find(|(name, _, _)| version == VERSION && *name == file);
    match found {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
