use std::time::Duration;

use serde_json::json;

use crate::helpers::{PASSWORD, WsClient, spawn_app, spawn_app_with};

const EVENTS: &str =
    "subscription($f: EventFilter) { events(filter: $f) { kind subjectId actorId sequence } }";

#[tokio::test]
async fn a_token_in_connection_init_authenticates_the_subscription() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let mut ws = WsClient::connect(&app, json!({ "token": network.tokens.admin }))
        .await
        .unwrap();
    ws.subscribe_ready("1", EVENTS, json!({ "f": { "kinds": ["user.created"] } }))
        .await;

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
    ws.subscribe_ready("1", EVENTS, json!({ "f": { "kinds": ["user.created"] } }))
        .await;
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
    assert_eq!(closed.code, 4403, "graphql-transport-ws: Forbidden");
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
    visitor.subscribe_ready("v", EVENTS, json!({})).await;

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

fn close_code(frame: Option<tokio_tungstenite::tungstenite::Message>) -> Option<u16> {
    match frame {
        Some(tokio_tungstenite::tungstenite::Message::Close(Some(frame))) => {
            Some(u16::from(frame.code))
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_client_that_never_sends_connection_init_is_closed_with_4408() {
    let app = spawn_app_with(|c| c.websocket.init_timeout = Duration::from_secs(1)).await;
    let mut silent = WsClient::open(&app).await;
    let frame = silent.next_frame(Duration::from_secs(5)).await;
    assert_eq!(close_code(frame), Some(4408));
    // An initialized connection outlives the timeout.
    let mut ok = WsClient::connect(&app, json!({})).await.unwrap();
    assert!(ok.stays_quiet(Duration::from_millis(1500)).await);
}

#[tokio::test]
async fn the_server_pings_and_closes_a_client_that_stays_silent() {
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app_with(|c| c.websocket.keepalive = Duration::from_millis(500)).await;
    let mut client = WsClient::connect(&app, json!({})).await.unwrap();
    let frame = client.next_frame(Duration::from_secs(2)).await;
    assert!(matches!(frame, Some(Message::Ping(_))), "{frame:?}");
    // Reading answers pings (tungstenite sends the pong), so a reading client stays.
    for _ in 0..4 {
        let frame = client.next_frame(Duration::from_secs(2)).await;
        assert!(matches!(frame, Some(Message::Ping(_))), "{frame:?}");
    }
    // Not reading means not answering: after three silent intervals the server closes.
    assert_eq!(app.state.metrics.websocket_connections.get(), 1);
    let closed = async {
        while app.state.metrics.websocket_connections.get() > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("the server closes a silent client");
    drop(client);
}

#[tokio::test]
async fn each_user_may_hold_only_so_many_connections() {
    let app = spawn_app_with(|c| c.websocket.max_per_user = 2).await;
    let network = app.seed_network().await;
    let token = json!({ "token": network.tokens.staff });
    let first = WsClient::connect(&app, token.clone()).await.unwrap();
    let _second = WsClient::connect(&app, token.clone()).await.unwrap();
    assert!(WsClient::connect(&app, token.clone()).await.is_err());
    // Another user is not affected; visitors are not counted per user.
    WsClient::connect(&app, json!({ "token": network.tokens.admin }))
        .await
        .unwrap();
    WsClient::connect(&app, json!({})).await.unwrap();
    // Closing one frees its slot.
    drop(first);
    let reopened = async {
        loop {
            if WsClient::connect(&app, token.clone()).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), reopened)
        .await
        .expect("the slot is freed when a connection closes");
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected_instead_of_buffered() {
    let app = spawn_app_with(|c| c.websocket.send_timeout = Duration::from_secs(1)).await;
    let mut reader = WsClient::connect(&app, json!({})).await.unwrap();
    reader.subscribe_ready("e", EVENTS, json!({})).await;
    assert_eq!(app.state.metrics.websocket_connections.get(), 1);

    // Events keep coming; the client never reads a byte.
    let template = entity::event::Model {
        seq: 0,
        id: uuid::Uuid::now_v7(),
        kind: "topic.created".into(),
        actor_id: None,
        subject_id: uuid::Uuid::now_v7(),
        object_id: None,
        organization_ids: json!([]),
        topic_ids: json!([]),
        audience: json!([{ "type": "public" }]),
        created_at: chrono::Utc::now(),
    };
    let mut seq = i64::MAX / 2;
    let mut published = 0;
    while app.state.metrics.websocket_connections.get() > 0 && published < 2_000_000 {
        for _ in 0..500 {
            seq += 1;
            app.state.events().publish(entity::event::Model {
                seq,
                ..template.clone()
            });
        }
        published += 500;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(
        app.state.metrics.websocket_connections.get(),
        0,
        "still connected after {published} events"
    );
    // The server is fine.
    let ok = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn changing_the_password_closes_the_users_websockets() {
    let app = spawn_app().await;
    app.create_user("ws.changer@uni.test", false).await;
    let token = app.login("ws.changer@uni.test", PASSWORD).await;
    let other = app.login("ws.changer@uni.test", PASSWORD).await;
    let mut open = WsClient::connect(&app, json!({ "token": token }))
        .await
        .unwrap();
    let mut bystander = WsClient::connect(&app, json!({})).await.unwrap();
    let changed = app
        .graphql(
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token } }",
            json!({ "c": PASSWORD, "n": "another long password" }),
            Some(&other),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    let mut code = None;
    while let Some(frame) = open.next_frame(Duration::from_secs(5)).await {
        if let Some(closed) = close_code(Some(frame)) {
            code = Some(closed);
            break;
        }
    }
    assert_eq!(code, Some(4403));
    assert!(bystander.stays_quiet(Duration::from_millis(300)).await);
    // The fresh token opens a connection that the change does not end.
    let fresh = changed["data"]["changePassword"]["token"].as_str().unwrap();
    let mut reopened = WsClient::connect(&app, json!({ "token": fresh }))
        .await
        .unwrap();
    assert!(reopened.stays_quiet(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn a_message_larger_than_a_graphql_request_may_be_closes_the_connection() {
    let app = spawn_app_with(|c| c.graphql.max_body_bytes = 64 * 1024).await;
    let network = app.seed_network().await;
    let mut ws = WsClient::connect(&app, json!({ "token": network.tokens.admin }))
        .await
        .unwrap();
    let padding = "x".repeat(128 * 1024);
    ws.send_text(
        json!({
            "id": "1",
            "type": "subscribe",
            "payload": { "query": EVENTS, "variables": { "padding": padding } },
        })
        .to_string(),
    )
    .await;
    let closed = ws.closed().await;
    assert!(
        [1006, 1009].contains(&closed.code),
        "closed with {closed:?}"
    );
    // Just under the limit is an ordinary subscription.
    let mut ws = WsClient::connect(&app, json!({ "token": network.tokens.admin }))
        .await
        .unwrap();
    ws.subscribe_ready(
        "1",
        EVENTS,
        json!({ "f": { "kinds": ["topic.created"] }, "padding": "x".repeat(60 * 1024) }),
    )
    .await;
    app.graphql(
        "mutation { createTopic(input: { slug: \"big\", nameFi: \"Iso\", nameSv: \"Stor\", nameEn: \"Big\" }) { id } }",
        json!({}),
        Some(&network.tokens.admin),
    )
    .await;
    assert_eq!(ws.next_data().await["events"]["kind"], "topic.created");
}

/// The pages' live view signs its socket in with the session cookie, but only on a handshake
/// from this site: another site's page (a browser sends the cookie along) gets a visitor's
/// rights.
#[tokio::test]
async fn a_page_of_this_site_signs_its_socket_in_with_the_session_cookie_and_no_other_site_can() {
    let app = crate::helpers::spawn_app().await;
    let ch = app.seed_channel().await;
    let (inquiry, slots) = app
        .published_inquiry(&ch, "Live by cookie", &["science"])
        .await;
    let cookie = format!("session={}", ch.token("lead").unwrap());
    let here = format!("http://{}", app.address);
    const FOLLOW: &str =
        "subscription($id: ID!) { inquiryUpdated(id: $id) { coverage { answered } } }";

    let mut other = crate::helpers::WsClient::connect_with(
        &app,
        &[("cookie", &cookie), ("origin", "https://evil.example")],
        json!({}),
    )
    .await
    .unwrap();
    other.subscribe("x", FOLLOW, json!({ "id": inquiry })).await;
    assert_eq!(
        other.next_error().await["extensions"]["code"],
        "UNAUTHENTICATED",
        "another site's handshake has no session"
    );

    let mut own = crate::helpers::WsClient::connect_with(
        &app,
        &[("cookie", &cookie), ("origin", &here)],
        json!({}),
    )
    .await
    .unwrap();
    own.subscribe_ready("u", FOLLOW, json!({ "id": inquiry }))
        .await;
    crate::helpers::assert_ok(
        &app.graphql(
            "mutation($t: ID!) { answerInquiry(input: { targetId: $t, body: \"Yes\", expectedVersion: 0 }) { id } }",
            json!({ "t": slots["science"] }),
            ch.token("science.mentor"),
        )
        .await,
    );
    // On PostgreSQL an earlier change of the inquiry (its publication) may still be on its
    // way through the event relay when the subscription starts: the answer is the update
    // that says one community answered.
    let mut answered = 0;
    for _ in 0..3 {
        answered = own.next_data().await["inquiryUpdated"]["coverage"]["answered"]
            .as_i64()
            .unwrap_or_default();
        if answered == 1 {
            break;
        }
    }
    assert_eq!(answered, 1);
}
