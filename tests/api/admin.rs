//! Admins keep the network's organizations and topics: names in three languages, and two
//! topics merged into one with everything tagged and everyone following it.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{Channel, TestApp, assert_ok, error_code, spawn_app};

async fn topic(app: &TestApp, ch: &Channel, slug: &str) -> String {
    let body = app
        .graphql(
            "mutation($s: String!) { createTopic(input: { slug: $s, nameFi: \"Aihe\", nameSv: \"Ämne\", nameEn: \"Topic\" }) { id } }",
            json!({ "s": slug }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&body);
    body["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn follow(app: &TestApp, ch: &Channel, who: &str, topic: &str, frequency: &str) {
    assert_ok(
        &app.graphql(
            "mutation($t: ID!, $f: Frequency!) { subscribeTopic(topicId: $t, frequency: $f) { frequency } }",
            json!({ "t": topic, "f": frequency }),
            ch.token(who),
        )
        .await,
    );
}

async fn news(app: &TestApp, ch: &Channel, title: &str, topics: &[&str]) -> String {
    let body = app
        .graphql(
            "mutation($t: String!, $topics: [ID!]!) { publishNews(input: { title: $t, body: \"b\", topicIds: $topics }) { id } }",
            json!({ "t": title, "topics": topics }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&body);
    body["data"]["publishNews"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

const RENAME_TOPIC: &str = "mutation($id: ID!) { updateTopic(id: $id, input: { nameFi: \"Tentit\", nameSv: \"Tentamina\", nameEn: \"Exams\" }) { slug names { fi sv en } } }";
const MERGE: &str = "mutation($f: ID!, $i: ID!) { mergeTopics(from: $f, into: $i) { slug } }";
const RENAME_ORG: &str = "mutation($id: ID!, $fi: String!) { updateOrganization(id: $id, nameFi: $fi, nameSv: \"Naturvetenskap\", nameEn: \"Science\") { slug names { fi sv en } } }";

#[tokio::test]
async fn admins_rename_organizations_and_topics_and_merge_two_topics() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let exams = topic(&app, &ch, "exams").await;
    let tests = topic(&app, &ch, "e-exams").await;

    // Who may: only admins; bad names are refused with nothing changed.
    for role in ["lead", "science.mentor", "science.staff", "unit.contact"] {
        for (query, variables) in [
            (RENAME_TOPIC, json!({ "id": exams })),
            (MERGE, json!({ "f": tests, "i": exams })),
            (
                RENAME_ORG,
                json!({ "id": ch.org("science"), "fi": "Tiede" }),
            ),
        ] {
            let body = app.graphql(query, variables, ch.token(role)).await;
            assert_eq!(
                error_code(&body).as_deref(),
                Some("FORBIDDEN"),
                "{role}: {body}"
            );
        }
    }
    let renamed = app
        .graphql(RENAME_TOPIC, json!({ "id": exams }), ch.token("admin"))
        .await;
    assert_ok(&renamed);
    assert_eq!(
        renamed["data"]["updateTopic"],
        json!({ "slug": "exams", "names": { "fi": "Tentit", "sv": "Tentamina", "en": "Exams" } })
    );
    let org = app
        .graphql(
            RENAME_ORG,
            json!({ "id": ch.org("science"), "fi": "Luonnontieteet" }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&org);
    assert_eq!(
        org["data"]["updateOrganization"]["names"]["fi"],
        "Luonnontieteet"
    );
    let empty = app
        .graphql(
            RENAME_ORG,
            json!({ "id": ch.org("science"), "fi": " " }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(
        error_code(&empty).as_deref(),
        Some("BAD_USER_INPUT"),
        "{empty}"
    );
    let read = app
        .graphql(
            "{ organization(slug: \"science\") { names { fi } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        read["data"]["organization"]["names"]["fi"],
        "Luonnontieteet"
    );

    // Merge: one post in each topic, one in both; a follower of each, one of both.
    let only_old = news(&app, &ch, "Old only", &[&tests]).await;
    let both = news(&app, &ch, "Both", &[&tests, &exams]).await;
    follow(&app, &ch, "science.staff", &tests, "DAILY").await;
    follow(&app, &ch, "science.staff2", &tests, "WEEKLY").await;
    follow(&app, &ch, "science.staff2", &exams, "IMMEDIATE").await;
    let itself = app
        .graphql(MERGE, json!({ "f": exams, "i": exams }), ch.token("admin"))
        .await;
    assert_eq!(error_code(&itself).as_deref(), Some("BAD_USER_INPUT"));
    let merged = app
        .graphql(MERGE, json!({ "f": tests, "i": exams }), ch.token("admin"))
        .await;
    assert_ok(&merged);
    assert_eq!(merged["data"]["mergeTopics"]["slug"], "exams");
    let topics = app.graphql("{ topics { slug } }", json!({}), None).await;
    assert!(!topics.to_string().contains("e-exams"), "{topics}");
    for id in [&only_old, &both] {
        let post = app
            .graphql(
                "query($id: ID!) { newsPost(id: $id) { topics { slug } } }",
                json!({ "id": id }),
                None,
            )
            .await;
        assert_eq!(
            post["data"]["newsPost"]["topics"],
            json!([{ "slug": "exams" }]),
            "tagged once: {post}"
        );
    }
    let frequency = |who: &'static str| {
        let app = &app;
        let ch = &ch;
        async move {
            let body = app
                .graphql(
                    "{ mySubscriptions { topic { slug } frequency } }",
                    json!({}),
                    ch.token(who),
                )
                .await;
            body["data"]["mySubscriptions"].clone()
        }
    };
    assert_eq!(
        frequency("science.staff").await,
        json!([{ "topic": { "slug": "exams" }, "frequency": "DAILY" }])
    );
    assert_eq!(
        frequency("science.staff2").await,
        json!([{ "topic": { "slug": "exams" }, "frequency": "IMMEDIATE" }]),
        "who followed both keeps their setting for the one that stays"
    );
    let left = entity::topic_subscription::Entity::find()
        .filter(
            entity::topic_subscription::Column::TopicId.eq(uuid::Uuid::parse_str(&tests).unwrap()),
        )
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let gone = app
        .graphql(MERGE, json!({ "f": tests, "i": exams }), ch.token("admin"))
        .await;
    assert_eq!(error_code(&gone).as_deref(), Some("NOT_FOUND"), "{gone}");
}
