//! Browser-facing hardening: security headers and the CORS allowlist.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn every_response_carries_security_headers_and_api_responses_a_strict_csp() {
    let app = spawn_app().await;
    let api = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    let h = api.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(
        h["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );
    // Errors and unknown paths too.
    let missing = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["x-content-type-options"], "nosniff");
    // GraphiQL is HTML that loads its scripts: no API CSP there, but the rest holds.
    let graphiql = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert!(graphiql.headers().get("content-security-policy").is_none());
    assert_eq!(graphiql.headers()["x-frame-options"], "DENY");
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let app = spawn_app_with(|c| {
        c.public_url = url::Url::parse("https://digimentor.example.edu").unwrap();
    })
    .await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

async fn preflight(app: &crate::helpers::TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_admits_only_the_configured_origins() {
    let app = spawn_app_with(|c| {
        c.cors_allowed_origins = vec!["https://intra.example.edu".into()];
    })
    .await;
    let allowed = preflight(&app, "https://intra.example.edu").await;
    assert!(allowed.status().is_success());
    let h = allowed.headers();
    assert_eq!(
        h["access-control-allow-origin"],
        "https://intra.example.edu"
    );
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let other = preflight(&app, "https://evil.example.com").await;
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // The actual request from the allowed origin may be read by its page.
    let post = app
        .client
        .post(app.url("/graphql"))
        .header("origin", "https://intra.example.edu")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        post.headers()["access-control-allow-origin"],
        "https://intra.example.edu"
    );

    // With nothing configured, no origin is admitted.
    let closed = spawn_app().await;
    let response = preflight(&closed, "https://intra.example.edu").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
