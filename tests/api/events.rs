//! Every change appends its event in the same transaction, and live subscribers see committed
//! events in commit order.

use std::time::Duration;

use entity::event;
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::json;

use crate::helpers::{WsClient, error_code, spawn_app};

#[tokio::test]
async fn each_admin_change_appends_one_event_with_its_actor() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let before = event::Entity::find().count(&app.state.db).await.unwrap();
    let body = app
        .graphql(
            "mutation { createTopic(input: { slug: \"ai\", nameFi: \"Tekoäly\", nameSv: \"AI\", nameEn: \"AI\" }) { id } }",
            json!({}),
            Some(&network.tokens.admin),
        )
        .await;
    let events = event::Entity::find()
        .order_by_asc(event::Column::Seq)
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(events.len() as u64, before + 1);
    let last = events.last().unwrap();
    assert_eq!(last.kind, "topic.created");
    assert_eq!(last.actor_id, Some(network.admin));
    assert_eq!(
        last.subject_id.to_string(),
        body["data"]["createTopic"]["id"].as_str().unwrap()
    );
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn a_refused_change_leaves_no_event_and_reaches_no_subscriber() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let mut ws = WsClient::connect(&app, json!({ "token": network.tokens.admin }))
        .await
        .unwrap();
    ws.subscribe_ready("1", "subscription { events { kind } }", json!({}))
        .await;

    let before = event::Entity::find().count(&app.state.db).await.unwrap();
    // The duplicate slug fails at the insert: the transaction rolls back.
    let body = app
        .graphql(
            "mutation { createOrganization(input: { slug: \"science\", kind: FACULTY, nameFi: \"a\", nameSv: \"b\", nameEn: \"c\" }) { id } }",
            json!({}),
            Some(&network.tokens.admin),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("CONFLICT"));
    assert_eq!(
        event::Entity::find().count(&app.state.db).await.unwrap(),
        before
    );
    assert!(ws.stays_quiet(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn subscribers_receive_events_in_commit_order_and_by_filter() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let mut all = WsClient::connect(&app, json!({ "token": network.tokens.admin }))
        .await
        .unwrap();
    all.subscribe(
        "all",
        "subscription { events { kind sequence } }",
        json!({}),
    )
    .await;
    let mut topics_only = WsClient::connect(&app, json!({})).await.unwrap();
    topics_only
        .subscribe_ready(
            "t",
            "subscription { events(filter: { kinds: [\"topic.created\"] }) { kind } }",
            json!({}),
        )
        .await;

    for i in 0..5 {
        let body = app
            .graphql(
                "mutation($s: String!) { createTopic(input: { slug: $s, nameFi: \"a\", nameSv: \"b\", nameEn: \"c\" }) { id } }",
                json!({ "s": format!("topic-{i}") }),
                Some(&network.tokens.admin),
            )
            .await;
        crate::helpers::assert_ok(&body);
        app.create_user(&format!("u{i}@uni.test"), false).await;
    }
    let mut last = 0;
    for _ in 0..10 {
        let data = all.next_data().await;
        let seq = data["events"]["sequence"].as_i64().unwrap();
        assert!(seq > last, "out of order: {seq} after {last}");
        last = seq;
    }
    for _ in 0..5 {
        assert_eq!(
            topics_only.next_data().await["events"]["kind"],
            "topic.created"
        );
    }
    assert!(topics_only.stays_quiet(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn an_event_is_resolved_once_per_distinct_selection_whoever_subscribes() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    const PLAIN: &str = "subscription { events { kind sequence } }";
    const FRAGMENT: &str =
        "subscription { events { ...E k: kind } } fragment E on Event { subjectId }";
    // The same selection text, with a fragment of the same name that selects something else.
    const OTHER_FRAGMENT: &str =
        "subscription { events { ...E k: kind } } fragment E on Event { sequence }";
    const VARIABLE: &str =
        "subscription($x: Boolean!) { events { kind sequence @include(if: $x) } }";
    let subscribers = [
        (Some(&network.tokens.admin), PLAIN, json!({})),
        (None, PLAIN, json!({})),
        (None, PLAIN, json!({})),
        (Some(&network.tokens.admin), FRAGMENT, json!({})),
        (None, FRAGMENT, json!({})),
        (None, OTHER_FRAGMENT, json!({})),
        (None, VARIABLE, json!({ "x": true })),
        (None, VARIABLE, json!({ "x": false })),
        (Some(&network.tokens.admin), VARIABLE, json!({ "x": false })),
    ];
    let mut sockets = Vec::new();
    for (n, (token, query, variables)) in subscribers.iter().enumerate() {
        let init = token.map_or(json!({}), |t| json!({ "token": t }));
        let mut ws = WsClient::connect(&app, init).await.unwrap();
        ws.subscribe_ready(&n.to_string(), query, variables.clone())
            .await;
        sockets.push(ws);
    }
    let before = app.state.metrics.event_resolutions.get();
    let created = app
        .graphql(
            "mutation { createTopic(input: { slug: \"shared\", nameFi: \"a\", nameSv: \"b\", nameEn: \"c\" }) { id } }",
            json!({}),
            Some(&network.tokens.admin),
        )
        .await;
    crate::helpers::assert_ok(&created);
    let topic = created["data"]["createTopic"]["id"].clone();
    let mut received = Vec::new();
    for ws in &mut sockets {
        received.push(ws.next_data().await["events"].clone());
    }
    let sequence = received[0]["sequence"].clone();
    assert!(sequence.is_i64(), "{received:?}");
    let plain = json!({ "kind": "topic.created", "sequence": sequence });
    let expected = [
        plain.clone(),
        plain.clone(),
        plain.clone(),
        json!({ "subjectId": topic, "k": "topic.created" }),
        json!({ "subjectId": topic, "k": "topic.created" }),
        json!({ "sequence": sequence, "k": "topic.created" }),
        plain,
        json!({ "kind": "topic.created" }),
        json!({ "kind": "topic.created" }),
    ];
    for (n, (got, want)) in received.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "subscriber {n}");
    }
    // Nine subscribers, five distinct selections: plain, the fragment, the other fragment, the
    // variable true and false.
    assert_eq!(app.state.metrics.event_resolutions.get() - before, 5);
}
