//! What a visitor (no token) can read: the open pages, and nothing else.

use serde_json::json;

use crate::helpers::{assert_ok, error_code, spawn_app};

/// Every query a visitor may call, with a sample operation.
const PUBLIC: &[(&str, &str)] = &[
    ("me", "{ me { id } }"),
    (
        "signInMethods",
        "{ signInMethods { password link singleSignOn } }",
    ),
    ("organizations", "{ organizations { slug } }"),
    (
        "organization",
        "{ organization(slug: \"science\") { slug members { role } } }",
    ),
    ("contacts", "{ contacts { hasMentor } }"),
    ("topics", "{ topics { slug } }"),
    ("news", "{ news { edges { node { title } } } }"),
    (
        "newsPost",
        "{ newsPost(id: \"00000000-0000-0000-0000-000000000000\") { title } }",
    ),
    (
        "tips",
        "{ tips(search: \"exam\") { edges { node { title } } } }",
    ),
    (
        "tip",
        "{ tip(id: \"00000000-0000-0000-0000-000000000000\") { title } }",
    ),
    ("meetings", "{ meetings(when: UPCOMING) { title } }"),
    (
        "meeting",
        "{ meeting(id: \"00000000-0000-0000-0000-000000000000\") { title } }",
    ),
    (
        "partnerNetworks",
        "{ partnerNetworks { slug contacts { name } } }",
    ),
    (
        "partnerNetwork",
        "{ partnerNetwork(slug: \"digipedagogy\") { name } }",
    ),
    (
        "communityPlan",
        "{ communityPlan(community: \"science\", year: 2027) { goals } }",
    ),
    (
        "trainings",
        "{ trainings(when: UPCOMING) { title placesLeft onlineUrl myRegistration { status } participants { status } } }",
    ),
    (
        "training",
        "{ training(id: \"00000000-0000-0000-0000-000000000000\") { title } }",
    ),
    (
        "projects",
        "{ projects { name people { person { displayName } } updates { body } myRole canManage } }",
    ),
    (
        "project",
        "{ project(id: \"00000000-0000-0000-0000-000000000000\") { name } }",
    ),
];

/// Every query that needs a login.
const PROTECTED: &[(&str, &str)] = &[
    ("inquiries", "{ inquiries { edges { node { id } } } }"),
    (
        "inquiry",
        "{ inquiry(id: \"00000000-0000-0000-0000-000000000000\") { id } }",
    ),
    ("questions", "{ questions { edges { node { id } } } }"),
    (
        "question",
        "{ question(id: \"00000000-0000-0000-0000-000000000000\") { id } }",
    ),
    ("mySubscriptions", "{ mySubscriptions { frequency } }"),
    ("agendaItems", "{ agendaItems { title } }"),
    ("announcements", "{ announcements { nodes { id } } }"),
    (
        "announcement",
        "{ announcement(id: \"00000000-0000-0000-0000-000000000000\") { id } }",
    ),
    ("deliveries", "{ deliveries { edges { node { id } } } }"),
    ("suspendedAddresses", "{ suspendedAddresses { email } }"),
    ("users", "{ users { edges { node { email } } } }"),
    ("auditLog", "{ auditLog { nodes { action before after } } }"),
    ("myData", "{ myData }"),
];

#[tokio::test]
async fn visitors_read_the_open_pages_and_nothing_else() {
    let app = spawn_app().await;
    app.seed_channel().await;
    for (name, query) in PUBLIC {
        let body = app.graphql(query, json!({}), None).await;
        assert_ok(&body);
        assert!(body["data"].get(*name).is_some(), "{name}: {body}");
    }
    for (name, query) in PROTECTED {
        let body = app.graphql(query, json!({}), None).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("UNAUTHENTICATED"),
            "{name}: {body}"
        );
    }
    // Every query of the schema is classified above, so a new one cannot slip through.
    let schema = app
        .graphql(
            "{ __schema { queryType { fields { name } } } }",
            json!({}),
            None,
        )
        .await;
    let mut fields: Vec<String> = schema["data"]["__schema"]["queryType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    let mut classified: Vec<String> = PUBLIC
        .iter()
        .chain(PROTECTED)
        .map(|(n, _)| (*n).to_owned())
        .collect();
    classified.sort();
    assert_eq!(fields, classified);
}
