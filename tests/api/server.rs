//! Probes, request ids, GraphiQL and graceful shutdown.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_probes_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.db.clone().close().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    // Liveness does not depend on the database.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "{id}");
    let other = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_ne!(
        other
            .headers()
            .get("x-request-id")
            .unwrap()
            .to_str()
            .unwrap(),
        id
    );
    // A caller's own id is kept, so logs can be correlated across services.
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers().get("x-request-id").unwrap(), "trace-me-42");
}

#[tokio::test]
async fn get_graphql_serves_graphiql_wired_to_the_websocket() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("graphiql"), "not GraphiQL");
    // The wiring is in the page's own script file (no inline script under its CSP).
    let mut scripts = String::new();
    for src in html.split("<script src=\"").skip(1) {
        let src = src.split('"').next().unwrap();
        scripts.push_str(
            &app.client
                .get(app.url(src))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    assert!(
        scripts.contains("/graphql/ws"),
        "GraphiQL is not wired to the subscription endpoint"
    );
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let app = spawn_app().await;
    let address = app.address;
    let body = json!({ "query": "{ topics { slug } }" }).to_string();
    let (first, rest) = body.split_at(10);

    // Start a request and send only part of its body.
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Shut down while the request is in flight.
    let stopping = tokio::spawn(async move {
        let mut app = app;
        app.stop().await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !stopping.is_finished(),
        "the server stopped with a request in flight"
    );
    // New connections are no longer accepted.
    assert!(tokio::net::TcpStream::connect(address).await.is_err());

    socket.write_all(rest.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut response))
        .await
        .expect("response in time")
        .unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"topics\":[]"), "{response}");

    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("server stopped after the request")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn tests_run_on_the_database_engine_that_was_asked_for() {
    use sea_orm::DbBackend;
    let app = spawn_app().await;
    let backend = app.state.db.get_database_backend();
    if crate::helpers::on_postgres() {
        assert_eq!(backend, DbBackend::Postgres);
    } else {
        assert_eq!(backend, DbBackend::Sqlite);
        eprintln!("note: TEST_DATABASE_URL is not set, so this run used SQLite only");
    }
}
