//! Bad input gets a clear, coded error and changes nothing.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{assert_ok, error_code, spawn_app, spawn_app_with};

async fn post_raw(app: &crate::helpers::TestApp, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn malformed_json_is_a_coded_400() {
    let app = spawn_app().await;
    let (status, body) = post_raw(&app, "{\"query\": ").await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    let (status, body) = post_raw(&app, "{\"variables\": {}}").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn batched_requests_are_refused() {
    let app = spawn_app().await;
    let (status, body) = post_raw(
        &app,
        r#"[{"query":"{ topics { slug } }"},{"query":"{ topics { slug } }"}]"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Batched")
    );
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app_with(|c| c.graphql.max_body_bytes = 4096).await;
    let padding = "x".repeat(8 * 1024);
    let (status, _) = post_raw(
        &app,
        format!(
            "{{\"query\":\"{{ topics {{ slug }} }}\",\"variables\":{{\"pad\":\"{padding}\"}}}}"
        ),
    )
    .await;
    assert_eq!(status, 413);
    // Just under the limit still works.
    let (status, body) = post_raw(&app, r#"{"query":"{ topics { slug } }"}"#).await;
    assert_eq!(status, 200);
    assert_ok(&body);
}

#[tokio::test]
async fn a_10_mb_body_gets_413_under_the_default_limit() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"query\":\"{{ topics {{ slug }} }}\",\"variables\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(10 * 1024 * 1024)
    );
    let (status, _) = post_raw(&app, huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn unknown_fields_and_wrong_types_are_bad_user_input() {
    let app = spawn_app().await;
    let body = app
        .graphql("{ topics { slug colour } }", json!({}), None)
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    let body = app
        .graphql("{ organizations(kind: PLANET) { slug } }", json!({}), None)
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    let body = app
        .graphql(
            "query($s: String!) { organization(slug: $s) { id } }",
            json!({ "s": 42 }),
            None,
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    let body = app.graphql("{ topics { slug ", json!({}), None).await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
}

#[tokio::test]
async fn over_deep_and_over_complex_queries_are_refused() {
    let app = spawn_app_with(|c| {
        c.graphql.max_depth = 5;
        c.graphql.max_complexity = 50;
    })
    .await;
    let deep = "{ me { memberships { organization { members { person { id } } } } } }";
    let body = app.graphql(deep, json!({}), None).await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("deep"),
        "{body}"
    );

    let aliases: String = (0..100)
        .map(|i| format!("t{i}: topics {{ slug }} "))
        .collect();
    let body = app
        .graphql(&format!("{{ {aliases} }}"), json!({}), None)
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );

    let shallow = app.graphql("{ topics { slug } }", json!({}), None).await;
    assert_ok(&shallow);
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let app = spawn_app_with(|c| c.graphql.introspection = false).await;
    let body = app
        .graphql("{ __schema { types { name } } }", json!({}), None)
        .await;
    assert!(
        body["data"]["__schema"].is_null(),
        "the schema was served: {body}"
    );

    // Field suggestions would leak the schema too.
    let typo = app.graphql("{ topic { slug } }", json!({}), None).await;
    assert!(
        !typo.to_string().contains("Did you mean"),
        "suggestions are on: {typo}"
    );

    let on = spawn_app().await;
    let body = on
        .graphql("{ __schema { queryType { name } } }", json!({}), None)
        .await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let typo = on.graphql("{ topic { slug } }", json!({}), None).await;
    assert!(typo.to_string().contains("Did you mean"), "{typo}");
}

#[tokio::test]
async fn invalid_directory_input_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let network = app.seed_network().await;
    let admin = Some(network.tokens.admin.as_str());
    let create_org = "mutation($s: String!, $fi: String!) { createOrganization(input: { slug: $s, kind: FACULTY, nameFi: $fi, nameSv: \"Sv\", nameEn: \"En\" }) { id } }";
    for (slug, fi, field) in [
        ("Bad Slug", "Nimi", "slug"),
        ("x", "Nimi", "slug"),
        ("valid-slug", "   ", "nameFi"),
    ] {
        let body = app
            .graphql(create_org, json!({ "s": slug, "fi": fi }), admin)
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{slug}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let body = app
        .graphql(create_org, json!({ "s": "science", "fi": "Tiede" }), admin)
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("CONFLICT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "slug");

    let create_user = "mutation($e: String!, $tz: String!, $p: String) { createUser(input: { email: $e, displayName: \"Someone\", timeZone: $tz, password: $p }) { user { id } } }";
    for (email, tz, password, field) in [
        ("not-an-email", "Europe/Helsinki", None, "email"),
        ("ok@uni.test", "Mars/Olympus", None, "timeZone"),
        ("ok@uni.test", "Europe/Helsinki", Some("short"), "password"),
    ] {
        let body = app
            .graphql(
                create_user,
                json!({ "e": email, "tz": tz, "p": password }),
                admin,
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{email}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // Case-insensitive duplicate email.
    let body = app
        .graphql(
            create_user,
            json!({ "e": "STAFF@uni.test", "tz": "Europe/Helsinki" }),
            admin,
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("CONFLICT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "email");

    let body = app
        .graphql("mutation { createUser(input: { email: \"x@uni.test\", displayName: \"X\", locale: DE }) { user { id } } }", json!({}), admin)
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );

    let create_topic = "mutation($s: String!) { createTopic(input: { slug: $s, nameFi: \"Aihe\", nameSv: \"Ämne\", nameEn: \"Topic\" }) { id } }";
    assert_ok(
        &app.graphql(create_topic, json!({ "s": "moodle" }), admin)
            .await,
    );
    let body = app
        .graphql(create_topic, json!({ "s": "moodle" }), admin)
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("CONFLICT"));

    // Nothing of the refused input was stored.
    let orgs = app
        .graphql("{ organizations { slug } }", json!({}), None)
        .await;
    assert_eq!(orgs["data"]["organizations"].as_array().unwrap().len(), 4);
    let users = app
        .state
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM \"user\"",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(users, 5);
}

#[tokio::test]
async fn internal_errors_are_opaque() {
    let app = spawn_app().await;
    app.state
        .db
        .execute_unprepared("ALTER TABLE topic RENAME TO topic_gone")
        .await
        .unwrap();
    let body = app.graphql("{ topics { slug } }", json!({}), None).await;
    assert_eq!(error_code(&body).as_deref(), Some("INTERNAL"), "{body}");
    let text = body.to_string().to_lowercase();
    for leak in [
        "select",
        "topic\"",
        "no such table",
        "relation",
        "sqlite",
        "postgres",
    ] {
        assert!(!text.contains(leak), "leaked {leak:?}: {body}");
    }
}

/// Each abusive document is refused with a code, fast, and the server stays up.
#[tokio::test]
async fn abusive_documents_are_refused_quickly_with_a_code() {
    let app = spawn_app().await;
    let nested = |depth: usize| {
        let mut q = String::from("{ me ");
        for _ in 0..depth {
            q.push_str("{ memberships ");
        }
        q.push_str(&"}".repeat(depth));
        q.push('}');
        q
    };
    let aliases: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
    let directives = "@skip(if: false) ".repeat(3_000);
    let chain: String = (0..500)
        .map(|i| format!("fragment F{i} on Query {{ ...F{} }} ", i + 1))
        .collect::<String>()
        + "fragment F500 on Query { __typename }";
    // 25 levels: under the recursion limit, 2^25 fields once expanded.
    let bomb: String = (1..=25)
        .map(|i| format!("fragment B{i} on Query {{ ...B{p} ...B{p} }} ", p = i - 1))
        .collect::<String>()
        + "fragment B0 on Query { topics { slug } }";
    let documents = [
        ("depth 200", nested(200)),
        ("depth 5,000", nested(5_000)),
        ("10,000 aliases", format!("{{ {aliases} }}")),
        ("3,000 directives", format!("{{ __typename {directives} }}")),
        ("a 500-fragment chain", format!("{{ ...F0 }} {chain}")),
        (
            "a fragment cycle",
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned(),
        ),
        ("a fragment bomb", format!("{{ ...B25 }} {bomb}")),
        (
            "a self-spreading fragment",
            "{ ...A } fragment A on Query { ...A ...A }".to_owned(),
        ),
    ];
    // Not a timing test: a bound far above normal, that only a blow-up would break.
    let started = std::time::Instant::now();
    for (what, query) in documents {
        let (_, body) = post_raw(&app, json!({ "query": query }).to_string()).await;
        assert!(body["data"].is_null(), "{what} was executed");
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{what}: {body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.chars().count() <= 301,
            "{what}: the message echoes the document"
        );
        if what == "a fragment bomb" || what == "10,000 aliases" {
            assert!(message.contains("too much"), "{what}: {message}");
        }
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let (status, body) = post_raw(&app, r#"{"query":"{ topics { slug } }"}"#).await;
    assert_eq!(status, 200);
    assert_ok(&body);
}
