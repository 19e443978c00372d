//! The tips bank: who adds tips, full-text search on both engines, promotion of answers.

use serde_json::{Value, json};

use crate::helpers::{Channel, TestApp, assert_ok, error_code, spawn_app};

const CREATE: &str = "mutation($o: ID!, $t: String!, $b: String!) { createTip(organizationId: $o, input: { title: $t, body: $b }) { id organization { slug } } }";

async fn tip(app: &TestApp, ch: &Channel, title: &str, body: &str) -> String {
    let created = app
        .graphql(
            CREATE,
            json!({ "o": ch.org("science"), "t": title, "b": body }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&created);
    created["data"]["createTip"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn titles(body: &Value) -> Vec<String> {
    body["data"]["tips"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn mentors_and_contacts_add_tips_for_their_own_organization() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    for (who, org, expected) in [
        ("visitor", "science", Some("UNAUTHENTICATED")),
        ("science.staff", "science", Some("FORBIDDEN")),
        ("arts.mentor", "science", Some("FORBIDDEN")),
        ("lead", "science", Some("FORBIDDEN")),
        ("science.mentor", "science", None),
        ("unit.contact", "it-services", None),
        ("admin", "arts", None),
    ] {
        let body = app
            .graphql(
                CREATE,
                json!({ "o": ch.org(org), "t": "Tip", "b": "Body" }),
                ch.token(who),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), expected, "{who}: {body}");
    }
    let empty = app
        .graphql(
            CREATE,
            json!({ "o": ch.org("science"), "t": "Tip", "b": "" }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(empty["errors"][0]["extensions"]["field"], "body");
    let update = "mutation($id: ID!) { updateTip(id: $id, input: { title: \"Changed\", body: \"New\" }) { title } }";
    let id = tip(&app, &ch, "Mine", "Text").await;
    assert_eq!(
        error_code(
            &app.graphql(update, json!({ "id": id }), ch.token("science.comentor"))
                .await
        )
        .as_deref(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        app.graphql(update, json!({ "id": id }), ch.token("science.mentor"))
            .await["data"]["updateTip"]["title"],
        "Changed"
    );
}

#[tokio::test]
async fn search_finds_finnish_and_english_words_and_ranks_title_hits_first() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    tip(
        &app,
        &ch,
        "Sähköinen tentti Moodlessa",
        "Näin järjestät tentin Exam-tilassa.",
    )
    .await;
    tip(
        &app,
        &ch,
        "Lecture recordings",
        "Before the exam, share recordings of every lecture.",
    )
    .await;
    tip(&app, &ch, "Exam week checklist", "Book rooms early.").await;
    tip(&app, &ch, "Unrelated", "Coffee breaks matter.").await;
    let search = "query($q: String!) { tips(search: $q) { edges { node { title } } } }";

    assert_eq!(
        titles(&app.graphql(search, json!({ "q": "tentti" }), None).await),
        ["Sähköinen tentti Moodlessa"]
    );
    // A prefix finds inflected forms: "tent" matches "tentti" and "tentin".
    assert_eq!(
        titles(&app.graphql(search, json!({ "q": "tent" }), None).await),
        ["Sähköinen tentti Moodlessa"]
    );
    // The title hit ranks above the body hits ("Exam-tilassa" holds the word too).
    let exam = titles(&app.graphql(search, json!({ "q": "exam" }), None).await);
    assert_eq!(exam[0], "Exam week checklist");
    let mut rest = exam[1..].to_vec();
    rest.sort();
    assert_eq!(rest, ["Lecture recordings", "Sähköinen tentti Moodlessa"]);
    // Every word must match; punctuation and operators are only words.
    assert_eq!(
        titles(
            &app.graphql(search, json!({ "q": "exam & recordings" }), None)
                .await
        ),
        ["Lecture recordings"]
    );
    assert!(
        titles(
            &app.graphql(search, json!({ "q": "'; DROP TABLE tip; --" }), None)
                .await
        )
        .is_empty()
    );
    assert!(
        titles(
            &app.graphql(search, json!({ "q": "nonexistentword" }), None)
                .await
        )
        .is_empty()
    );
    // Edits are searchable at once.
    let all = app
        .graphql("{ tips { edges { node { id title } } } }", json!({}), None)
        .await;
    assert_eq!(titles(&all).len(), 4);
}

#[tokio::test]
async fn an_answer_becomes_a_tip_once_with_attribution() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (_, slots) = app
        .published_inquiry(&ch, "Peer review in Moodle", &["science", "arts"])
        .await;
    app.graphql(
        "mutation($t: ID!) { answerInquiry(input: { targetId: $t, body: \"We use the Workshop activity.\", expectedVersion: 0 }) { id } }",
        json!({ "t": slots["science"] }),
        ch.token("science.mentor"),
    )
    .await;
    let promote = "mutation($t: ID!) { promoteAnswerToTip(targetId: $t) { title body organization { slug } promotedFromAnswer } }";
    let denied = app
        .graphql(
            promote,
            json!({ "t": slots["science"] }),
            ch.token("arts.mentor"),
        )
        .await;
    assert_eq!(error_code(&denied).as_deref(), Some("FORBIDDEN"));
    let pending = app
        .graphql(promote, json!({ "t": slots["arts"] }), ch.token("lead"))
        .await;
    assert_eq!(pending["errors"][0]["extensions"]["field"], "targetId");
    let tip = app
        .graphql(promote, json!({ "t": slots["science"] }), ch.token("lead"))
        .await;
    assert_eq!(
        tip["data"]["promoteAnswerToTip"],
        json!({ "title": "Peer review in Moodle", "body": "We use the Workshop activity.", "organization": { "slug": "science" }, "promotedFromAnswer": slots["science"] })
    );
    let again = app
        .graphql(
            promote,
            json!({ "t": slots["science"] }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));
    let found = app
        .graphql(
            "{ tips(search: \"workshop\") { edges { node { title } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(titles(&found), ["Peer review in Moodle"]);
}

#[tokio::test]
async fn a_title_match_outranks_a_body_that_repeats_the_word() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    tip(
        &app,
        &ch,
        "Practical advice",
        "Exam, exam: plan the exam early, check the exam room.",
    )
    .await;
    tip(&app, &ch, "Exam", "Long text about planning courses, booking rooms and writing clear instructions for students.").await;
    let found = app
        .graphql(
            "{ tips(search: \"exam\") { edges { node { title } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(titles(&found), ["Exam", "Practical advice"]);
}

/// The tips page's query: each tip with its organization and topics.
const TIPS_PAGE: &str =
    "{ tips(first: 20) { nodes { id title organization { slug } topics { slug } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_tips_costs_the_same_statements_alone_and_under_load_and_reads_what_is_stored() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let mut topics = Vec::new();
    for slug in ["moodle", "teams", "ai"] {
        let created = app
            .graphql(
                &format!("mutation {{ createTopic(input: {{ slug: \"{slug}\", nameFi: \"{slug}\", nameSv: \"{slug}\", nameEn: \"{slug}\" }}) {{ id }} }}"),
                json!({}),
                ch.token("admin"),
            )
            .await;
        assert_ok(&created);
        topics.push(created["data"]["createTopic"]["id"].clone());
    }
    // Tips of three organizations, with none, one or two topics.
    let mut expected = std::collections::HashMap::new();
    for n in 0..9 {
        let (org, who) = [
            ("science", "science.mentor"),
            ("arts", "arts.mentor"),
            ("it-services", "unit.contact"),
        ][n % 3];
        let tagged: Vec<Value> = topics.iter().take(n % 3).cloned().collect();
        let created = app
            .graphql(
                "mutation($o: ID!, $t: String!, $topics: [ID!]!) { createTip(organizationId: $o, input: { title: $t, body: \"b\", topicIds: $topics }) { id } }",
                json!({ "o": ch.org(org), "t": format!("Tip {n}"), "topics": tagged }),
                ch.token(who),
            )
            .await;
        assert_ok(&created);
        let slugs: Vec<&str> = ["ai", "moodle", "teams"]
            .into_iter()
            .filter(|s| match n % 3 {
                0 => false,
                1 => *s == "moodle",
                _ => *s != "ai",
            })
            .collect();
        expected.insert(
            created["data"]["createTip"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            (org, slugs),
        );
    }
    // A visitor's page: the tips, their organizations, their topics (links, then topics).
    let before = app.quiet_statements().await;
    let page = app.graphql(TIPS_PAGE, json!({}), None).await;
    assert_ok(&page);
    assert_eq!(app.state.statements.get() - before, 4, "alone");
    let nodes = page["data"]["tips"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 9);
    for node in nodes {
        let (org, slugs) = &expected[node["id"].as_str().unwrap()];
        assert_eq!(node["organization"]["slug"], *org, "{node}");
        let got: Vec<&str> = node["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap())
            .collect();
        assert_eq!(&got, slugs, "{node}");
    }
    // 32 visitors at once cost 32 times one.
    let before = app.quiet_statements().await;
    let pages =
        futures_util::future::join_all((0..32).map(|_| app.graphql(TIPS_PAGE, json!({}), None)))
            .await;
    for other in &pages {
        assert_eq!(other, &page);
    }
    assert_eq!(app.state.statements.get() - before, 32 * 4, "under load");
    // Without organizations and topics in the selection, neither is read.
    let before = app.quiet_statements().await;
    assert_ok(
        &app.graphql(
            "{ tips(first: 20) { nodes { id title } } }",
            json!({}),
            None,
        )
        .await,
    );
    assert_eq!(
        app.state.statements.get() - before,
        1,
        "nothing nested asked"
    );
}
