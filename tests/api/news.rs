//! The news column: who publishes, who reads, edits and withdrawals, the Atom feed, and topic
//! emails.

use serde_json::{Value, json};

use crate::helpers::{Channel, TestApp, assert_ok, error_code, spawn_app, spawn_app_with};
use crate::smtp::SmtpSink;

const PUBLISH: &str = "mutation($t: String!, $b: String!, $topics: [ID!]!) { publishNews(input: { title: $t, body: $b, topicIds: $topics }) { id title publishedAt author { email } topics { slug } } }";

async fn publish(app: &TestApp, ch: &Channel, who: &str, title: &str, topics: Value) -> String {
    let body = app
        .graphql(
            PUBLISH,
            json!({ "t": title, "b": "Meeting notes: **AI** and exams.", "topics": topics }),
            ch.token(who),
        )
        .await;
    assert_ok(&body);
    body["data"]["publishNews"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn admins_contacts_and_mentors_publish_and_anyone_reads() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    for (who, expected) in [
        ("visitor", Some("UNAUTHENTICATED")),
        ("science.staff", Some("FORBIDDEN")),
        ("lead", Some("FORBIDDEN")),
        ("science.mentor", None),
        ("unit.contact", None),
        ("admin", None),
    ] {
        let body = app
            .graphql(
                PUBLISH,
                json!({ "t": format!("By {who}"), "b": "Text", "topics": [] }),
                ch.token(who),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), expected, "{who}: {body}");
    }
    let list = app.graphql("{ news(first: 2) { edges { node { title author { email } } } pageInfo { hasNextPage } } }", json!({}), None).await;
    assert_ok(&list);
    let titles: Vec<&str> = list["data"]["news"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["By admin", "By unit.contact"]);
    assert_eq!(list["data"]["news"]["pageInfo"]["hasNextPage"], true);
    let bad = app
        .graphql(
            PUBLISH,
            json!({ "t": "Empty", "b": "  ", "topics": [] }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "body");
}

#[tokio::test]
async fn authors_and_admins_edit_and_withdraw_posts() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let id = publish(&app, &ch, "science.mentor", "Draft title", json!([])).await;
    let update = "mutation($id: ID!, $t: String!) { updateNews(id: $id, input: { title: $t, body: \"New body\" }) { title body } }";
    for (who, expected) in [
        ("arts.mentor", Some("FORBIDDEN")),
        ("science.mentor", None),
        ("admin", None),
    ] {
        let body = app
            .graphql(
                update,
                json!({ "id": id, "t": format!("Edited by {who}") }),
                ch.token(who),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), expected, "{who}");
    }
    let unpublish = "mutation($id: ID!) { unpublishNews(id: $id) { publishedAt } }";
    let denied = app
        .graphql(unpublish, json!({ "id": id }), ch.token("unit.contact"))
        .await;
    assert_eq!(error_code(&denied).as_deref(), Some("FORBIDDEN"));
    let withdrawn = app
        .graphql(unpublish, json!({ "id": id }), ch.token("science.mentor"))
        .await;
    assert!(withdrawn["data"]["unpublishNews"]["publishedAt"].is_null());
    let visitor = app
        .graphql(
            "query($id: ID!) { newsPost(id: $id) { title } }",
            json!({ "id": id }),
            None,
        )
        .await;
    assert!(visitor["data"]["newsPost"].is_null());
    let author = app
        .graphql(
            "query($id: ID!) { newsPost(id: $id) { title } }",
            json!({ "id": id }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(author["data"]["newsPost"]["title"], "Edited by admin");
    let list = app
        .graphql("{ news { edges { node { id } } } }", json!({}), None)
        .await;
    assert_eq!(list["data"]["news"]["edges"], json!([]));
}

#[tokio::test]
async fn the_news_can_be_filtered_by_topic() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let topic = app
        .graphql("mutation { createTopic(input: { slug: \"ai\", nameFi: \"Tekoäly\", nameSv: \"AI\", nameEn: \"AI\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    publish(&app, &ch, "admin", "About AI", json!([topic])).await;
    publish(&app, &ch, "admin", "About nothing", json!([])).await;
    let body = app
        .graphql(
            "query($t: ID!) { news(topicId: $t) { edges { node { title topics { slug } } } } }",
            json!({ "t": topic }),
            None,
        )
        .await;
    assert_eq!(
        body["data"]["news"]["edges"],
        json!([{ "node": { "title": "About AI", "topics": [{ "slug": "ai" }] } }])
    );
}

#[tokio::test]
async fn the_atom_feed_is_valid_with_absolute_links() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let first = publish(&app, &ch, "admin", "First <post>", json!([])).await;
    let second = publish(&app, &ch, "unit.contact", "Second post", json!([])).await;
    let withdrawn = publish(&app, &ch, "admin", "Withdrawn", json!([])).await;
    app.graphql(
        "mutation($id: ID!) { unpublishNews(id: $id) { id } }",
        json!({ "id": withdrawn }),
        ch.token("admin"),
    )
    .await;

    let response = app
        .client
        .get(app.url("/feeds/news.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let xml = response.bytes().await.unwrap();
    let feed = feed_rs::parser::parse(&xml[..]).expect("a valid Atom feed");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.title.unwrap().content, "Digimentor news");
    assert!(feed.updated.is_some());
    let titles: Vec<String> = feed
        .entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect();
    assert_eq!(titles, ["Second post", "First <post>"]);
    for (entry, id) in feed.entries.iter().zip([&second, &first]) {
        assert_eq!(
            entry.links[0].href,
            format!("http://digimentor.test/news/{id}")
        );
        assert!(entry.updated.is_some() && entry.published.is_some());
        assert!(!entry.authors.is_empty());
        assert!(
            entry
                .content
                .as_ref()
                .unwrap()
                .body
                .as_ref()
                .unwrap()
                .contains("<strong>AI</strong>")
        );
    }
}

#[tokio::test]
async fn news_reaches_immediate_subscribers_and_digests() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    let topic = app
        .graphql("mutation { createTopic(input: { slug: \"ai\", nameFi: \"Tekoäly\", nameSv: \"AI\", nameEn: \"AI\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (who, frequency) in [("arts.staff", "IMMEDIATE"), ("science.staff", "DAILY")] {
        app.graphql("mutation($t: ID!, $f: Frequency!) { subscribeTopic(topicId: $t, frequency: $f) { frequency } }", json!({ "t": topic, "f": frequency }), ch.token(who)).await;
    }
    app.run_digests(chrono::Utc::now()).await.unwrap();
    publish(&app, &ch, "admin", "Monthly meeting report", json!([topic])).await;
    app.drain_mail().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].parsed().subject(),
        Some("[Digimentor] Tekoäly: Uutinen: Monthly meeting report")
    );

    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let report = app.run_digests(tomorrow).await.unwrap();
    assert_eq!(report.queued, 1);
}
