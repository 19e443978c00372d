use std::time::Duration;

use serde_json::json;

use crate::helpers::{PASSWORD, WsClient, spawn_app};

const EVENTS: &str =
    "subscription($f: EventFilter) { events(filter: $f) { kind subjectId actorId sequence } }";

#[tokio::test]
async fn a_token_in_connection_init_authenticates_the_subscription() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let mut ws = WsClient::connect(&app, json!({ "token": network.tokens.admin }))
        .await
        .unwrap();
    ws.subscribe("1", EVENTS, json!({ "f": { "kinds": ["user.created"] } }))
        .await;
    // Give the server a moment to register the subscription before the change.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let created = app.create_user("newcomer@uni.test", false).await;
    let data = ws.next_data().await;
    assert_eq!(data["events"]["kind"], "user.created");
    assert_eq!(data["events"]["subjectId"], created.to_string());
}

#[tokio::test]
async fn graphiqls_authorization_header_payload_works_too() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let payload = json!({ "Authorization": format!("Bearer {}", network.tokens.admin) });
    let mut ws = WsClient::connect(&app, payload).await.unwrap();
    ws.subscribe("1", EVENTS, json!({ "f": { "kinds": ["user.created"] } }))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Only an admin may see this kind, so receiving it proves the payload authenticated.
    app.create_user("seen@uni.test", false).await;
    assert_eq!(ws.next_data().await["events"]["kind"], "user.created");

    let forged = json!({ "Authorization": "Bearer dmt_forged" });
    assert!(WsClient::connect(&app, forged).await.is_err());
}

#[tokio::test]
async fn a_bad_token_closes_the_connection() {
    let app = spawn_app().await;
    let closed = WsClient::connect(&app, json!({ "token": "dmt_forged" }))
        .await
        .err()
        .expect("refused");
    assert_ne!(closed.code, 1000);
    assert!(closed.reason.contains("Authentication"), "{closed:?}");

    // A revoked token is refused too.
    app.create_user("a@uni.test", false).await;
    let token = app.login("a@uni.test", PASSWORD).await;
    app.graphql("mutation { logout }", json!({}), Some(&token))
        .await;
    assert!(
        WsClient::connect(&app, json!({ "token": token }))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn visitors_receive_public_events_only() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let mut visitor = WsClient::connect(&app, json!({})).await.unwrap();
    visitor.subscribe("v", EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // An account change is not for visitors; a new topic is.
    app.create_user("private@uni.test", false).await;
    let topic = app
        .graphql(
            "mutation { createTopic(input: { slug: \"moodle\", nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }",
            json!({}),
            Some(&network.tokens.admin),
        )
        .await;
    let data = visitor.next_data().await;
    assert_eq!(data["events"]["kind"], "topic.created");
    assert_eq!(
        data["events"]["subjectId"],
        topic["data"]["createTopic"]["id"]
    );
    assert!(visitor.stays_quiet(Duration::from_millis(300)).await);
}
