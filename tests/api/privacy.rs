//! The GDPR: a person downloads everything held about them, and an admin erases a person —
//! no trace of their name or address is left in any column of any table, while what they
//! answered for their community stays.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_ok, error_code, spawn_app};

const NAME: &str = "Zyxwa Quorble";
const EMAIL: &str = "zyxwa.quorble@uni.test";

/// Every (table, column) of the database, whatever its type.
async fn columns(app: &TestApp) -> Vec<(String, String)> {
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    if backend == DbBackend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = current_schema()",
            ))
            .await
            .unwrap();
        for row in rows {
            out.push((row.try_get("", "t").unwrap(), row.try_get("", "c").unwrap()));
        }
    } else {
        let tables = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ))
            .await
            .unwrap();
        for table in tables {
            let table: String = table.try_get("", "name").unwrap();
            let cols = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT name FROM pragma_table_info('{table}')"),
                ))
                .await
                .unwrap();
            for col in cols {
                out.push((table.clone(), col.try_get("", "name").unwrap()));
            }
        }
    }
    assert!(out.len() > 100, "too few columns found: {}", out.len());
    out
}

/// The (table, column) pairs where any of the needles occurs, any case.
async fn traces(app: &TestApp, needles: &[&str]) -> Vec<String> {
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let mut found = Vec::new();
    for (table, column) in columns(app).await {
        for needle in needles {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM \"{table}\" WHERE lower(CAST(\"{column}\" AS TEXT)) LIKE '%{}%'",
                needle.to_lowercase()
            );
            let n: i64 = db
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .unwrap()
                .try_get("", "n")
                .unwrap();
            if n > 0 {
                found.push(format!("{table}.{column} ({needle}: {n})"));
            }
        }
    }
    found
}

#[tokio::test]
async fn a_person_downloads_their_data_and_an_erased_person_leaves_no_trace_but_their_answers() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let admin = ch.token("admin");

    // The admin creates the person and makes them a mentor of Science (both audited with the
    // name and address in the record).
    let created = app
        .graphql(
            "mutation($e: String!, $n: String!, $p: String!) { createUser(input: { email: $e, displayName: $n, password: $p }) { user { id } } }",
            json!({ "e": EMAIL, "n": NAME, "p": PASSWORD }),
            admin,
        )
        .await;
    assert_ok(&created);
    let id = created["data"]["createUser"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ok(
        &app.graphql(
            "mutation($u: ID!, $o: ID!) { addMembership(input: { userId: $u, organizationId: $o, role: MENTOR }) { id } }",
            json!({ "u": id, "o": ch.org("science") }),
            admin,
        )
        .await,
    );
    // A wrong password once (counted against the address), then signed in.
    let wrong = app
        .graphql(
            "mutation($e: String!) { login(email: $e, password: \"not-the-password\") { token } }",
            json!({ "e": EMAIL }),
            None,
        )
        .await;
    assert!(error_code(&wrong).is_some(), "{wrong}");
    let token = app.login(EMAIL, PASSWORD).await;

    // They follow a topic and answer an inquiry for Science; the lead is emailed the answer
    // with their name.
    let topic = app
        .graphql(
            "mutation { createTopic(input: { slug: \"moodle\", nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }",
            json!({}),
            admin,
        )
        .await;
    assert_ok(&topic);
    assert_ok(
        &app.graphql(
            "mutation($t: ID!) { subscribeTopic(topicId: $t, frequency: DAILY) { frequency } }",
            json!({ "t": topic["data"]["createTopic"]["id"] }),
            Some(&token),
        )
        .await,
    );
    let (inquiry, slots) = app
        .published_inquiry(&ch, "Exam practices", &["science", "arts"])
        .await;
    let answer = "We use Exam with Moodle quizzes.";
    assert_ok(
        &app.graphql(
            "mutation($t: ID!, $b: String!) { answerInquiry(input: { targetId: $t, body: $b, expectedVersion: 0 }) { id } }",
            json!({ "t": slots["science"], "b": answer }),
            Some(&token),
        )
        .await,
    );

    // Their download holds their account, role, follow, answer, emails and the admin actions
    // on their account; never a password hash.
    let body = app.graphql("{ myData }", json!({}), Some(&token)).await;
    assert_ok(&body);
    let data: Value = serde_json::from_str(body["data"]["myData"].as_str().unwrap()).unwrap();
    assert_eq!(data["account"]["email"], EMAIL);
    assert_eq!(data["account"]["display_name"], NAME);
    assert!(data["account"].get("password_hash").is_none(), "{data}");
    assert_eq!(data["memberships"].as_array().unwrap().len(), 1);
    assert_eq!(data["topicSubscriptions"].as_array().unwrap().len(), 1);
    assert!(!data["sessions"].as_array().unwrap().is_empty());
    assert!(data["sessions"][0].get("token_hash").is_none(), "{data}");
    let answers = data["inquiryAnswers"].to_string();
    assert!(answers.contains(answer), "{answers}");
    assert!(!data["emails"].as_array().unwrap().is_empty(), "{data}");
    let actions: Vec<&str> = data["administratorActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["createUser"], "{data}");
    assert!(!data.to_string().contains("$argon2"));
    // Nobody else's data: another person's download does not carry this person.
    let other = app
        .graphql("{ myData }", json!({}), ch.token("arts.staff"))
        .await;
    assert!(!other["data"]["myData"].as_str().unwrap().contains("zyxwa"));
    // Visitors have no data to download.
    let visitor = app.graphql("{ myData }", json!({}), None).await;
    assert_eq!(error_code(&visitor).as_deref(), Some("UNAUTHENTICATED"));

    let before = traces(&app, &["zyxwa", "quorble"]).await;
    assert!(
        before.iter().any(|t| t.starts_with("delivery.payload")),
        "the test should put the name into someone else's email: {before:?}"
    );

    // Only an admin erases; then the person is gone from every column of every table.
    let refused = app
        .graphql(
            "mutation($u: ID!) { erasePerson(userId: $u) { id } }",
            json!({ "u": id }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    let erased = app
        .graphql(
            "mutation($u: ID!) { erasePerson(userId: $u) { id displayName former } }",
            json!({ "u": id }),
            admin,
        )
        .await;
    assert_ok(&erased);
    assert_eq!(erased["data"]["erasePerson"]["former"], true);
    let left = traces(&app, &["zyxwa", "quorble"]).await;
    assert!(left.is_empty(), "traces left after erasure: {left:?}");
    let again = app
        .graphql(
            "mutation($u: ID!) { erasePerson(userId: $u) { id } }",
            json!({ "u": id }),
            admin,
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));

    // Their session ended; the answer stays, by a former member without name or address.
    let me = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    assert!(me["data"]["me"].is_null(), "{me}");
    let read = app
        .graphql(
            "query($id: ID!) { inquiry(id: $id) { targets { community { slug } answer answeredBy { displayName former email } } } }",
            json!({ "id": inquiry }),
            ch.token("lead"),
        )
        .await;
    assert_ok(&read);
    let science = read["data"]["inquiry"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["community"]["slug"] == "science")
        .unwrap()
        .clone();
    assert_eq!(science["answer"], answer);
    assert_eq!(science["answeredBy"]["former"], true, "{science}");
    assert_eq!(science["answeredBy"]["displayName"], "—");
    assert!(science["answeredBy"]["email"].is_null(), "{science}");
    // The audit log tells that the person was erased, not who they were.
    let log = app
        .graphql(
            "query($s: ID!) { auditLog(subjectId: $s) { nodes { action } } }",
            json!({ "s": id }),
            admin,
        )
        .await;
    assert_ok(&log);
    assert_eq!(log["data"]["auditLog"]["nodes"][0]["action"], "erasePerson");
}
