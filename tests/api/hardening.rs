//! Browser-facing hardening: security headers and the CORS allowlist.

use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
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
    assert_eq!(h["referrer-policy"], "same-origin");
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
    // GraphiQL is HTML that loads its scripts: its own policy (this origin only), not the
    // API's, and the rest holds.
    let graphiql = app.client.get(app.url("/graphql")).send().await.unwrap();
    let csp = graphiql.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
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

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|c| c.request_timeout = std::time::Duration::from_secs(1)).await;
    let mut socket = tokio::net::TcpStream::connect(app.address).await.unwrap();
    socket
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        socket.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server waited for the body");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn unsubscribe_and_feed_endpoints_shrug_off_scanners_and_oversized_input() {
    let app = spawn_app().await;
    let get = |path: String| {
        let request = app.client.get(app.url(&path));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // Forged, junk and oversized tokens: 400, never a server error.
    for token in [
        "x".repeat(5_000),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        "%00".to_owned(),
        "a.b".to_owned(),
        "<script>".to_owned(),
    ] {
        assert_eq!(get(format!("/unsubscribe/{token}")).await, 400, "{token}");
        let status = app
            .client
            .post(app.url(&format!("/unsubscribe/{token}")))
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 400, "{token}");
    }
    // The one-click body is never read, so a huge one costs nothing; the forged token is refused.
    let status = app
        .client
        .post(app.url("/unsubscribe/abc.def"))
        .body("x".repeat(1024 * 1024))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 400);
    // Feeds ignore what they do not use and do not serve anything else.
    let long_query = "q=".to_owned() + &"x".repeat(4_000);
    assert_eq!(get(format!("/feeds/news.atom?{long_query}")).await, 200);
    assert_eq!(get(format!("/feeds/meetings.ics?{long_query}")).await, 200);
    for path in [
        "/feeds/../Cargo.toml",
        "/feeds/news.atom/extra",
        "/feeds/",
        "/unsubscribe/",
        "/.env",
        "/wp-admin",
    ] {
        assert_eq!(get(path.to_owned()).await, 404, "{path}");
    }
    // Nothing was written by any of it.
    let deliveries = entity::delivery::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(deliveries, 0);
}
