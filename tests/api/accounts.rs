//! The account lifecycle: deactivating someone who left (sessions, sign-in, emails, what they
//! wrote) and letting them back.

use entity::delivery::{self, DeliveryStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{Channel, PASSWORD, TestApp, assert_ok, error_code, spawn_app};

const DEACTIVATE: &str = "mutation($u: ID!) { deactivateUser(userId: $u) { id deactivatedAt } }";
const REACTIVATE: &str = "mutation($u: ID!) { reactivateUser(userId: $u) { id deactivatedAt } }";
const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";

async fn topic_followed_by(app: &TestApp, ch: &Channel, who: &str) -> String {
    let created = app
        .graphql(
            "mutation { createTopic(input: { slug: \"moodle\", nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }",
            json!({}),
            ch.token("admin"),
        )
        .await;
    assert_ok(&created);
    let topic = created["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ok(
        &app.graphql(
            "mutation($t: ID!) { subscribeTopic(topicId: $t, frequency: IMMEDIATE) { frequency } }",
            json!({ "t": topic }),
            ch.token(who),
        )
        .await,
    );
    topic
}

async fn publish_on_topic(app: &TestApp, ch: &Channel, title: &str, topic: &str) {
    assert_ok(
        &app.graphql(
            "mutation($t: String!, $topics: [ID!]!) { publishNews(input: { title: $t, body: \"From the meeting\", topicIds: $topics }) { id } }",
            json!({ "t": title, "topics": [topic] }),
            ch.token("admin"),
        )
        .await,
    );
}

async fn deliveries_to(app: &TestApp, email: &str) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .filter(delivery::Column::RecipientEmail.eq(email))
        .all(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn deactivating_someone_ends_their_sessions_and_emails_and_keeps_their_words_as_former() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let staff = "science.staff@uni.test";
    let topic = topic_followed_by(&app, &ch, "science.staff").await;
    let asked = app
        .graphql(
            "mutation($c: ID!) { askQuestion(input: { communityId: $c, title: \"Exam rooms\", body: \"Which rooms have cameras?\" }) { id } }",
            json!({ "c": ch.org("science") }),
            ch.token("science.staff"),
        )
        .await;
    assert_ok(&asked);
    let question = asked["data"]["askQuestion"]["id"].clone();
    // An email planned for them, not yet sent.
    publish_on_topic(&app, &ch, "Moodle upgrade", &topic).await;
    let waiting: Vec<_> = deliveries_to(&app, staff)
        .await
        .into_iter()
        .filter(|d| d.status == DeliveryStatus::Pending)
        .collect();
    assert!(
        !waiting.is_empty(),
        "the topic's follower has an email waiting"
    );

    let who = json!({ "u": ch.user_id("science.staff").to_string() });
    for role in ["lead", "science.mentor", "science.staff2", "unit.contact"] {
        let body = app.graphql(DEACTIVATE, who.clone(), ch.token(role)).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("FORBIDDEN"),
            "{role}: {body}"
        );
    }
    let body = app.graphql(DEACTIVATE, who.clone(), None).await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("UNAUTHENTICATED"),
        "{body}"
    );
    assert_ok(
        &app.graphql("{ me { id } }", json!({}), ch.token("science.staff"))
            .await,
    );

    let done = app
        .graphql(DEACTIVATE, who.clone(), ch.token("admin"))
        .await;
    assert_ok(&done);
    assert!(done["data"]["deactivateUser"]["deactivatedAt"].is_string());

    // Their session ended; the password and sign-in links no longer let them in.
    let me = app
        .graphql("{ me { id } }", json!({}), ch.token("science.staff"))
        .await;
    assert_eq!(error_code(&me).as_deref(), Some("UNAUTHENTICATED"), "{me}");
    let login = app
        .graphql(LOGIN, json!({ "e": staff, "p": PASSWORD }), None)
        .await;
    assert_eq!(
        error_code(&login).as_deref(),
        Some("UNAUTHENTICATED"),
        "{login}"
    );
    let mut browser = crate::pages::Browser::new(&app);
    let asked = crate::pages::ask_for_link(&mut browser, staff, "/").await;
    assert_eq!(asked.status, 303);
    let mut other = crate::pages::Browser::new(&app);
    let control = crate::pages::ask_for_link(&mut other, "science.staff2@uni.test", "/").await;
    assert_eq!(control.status, 303);
    let links = |ds: Vec<delivery::Model>| ds.iter().filter(|d| d.kind == "sign_in_link").count();
    assert_eq!(
        links(deliveries_to(&app, "science.staff2@uni.test").await),
        1,
        "an active colleague gets the link"
    );
    assert_eq!(links(deliveries_to(&app, staff).await), 0);
    // The email that waited is not sent, and nothing new is planned (rule or topic).
    for d in deliveries_to(&app, staff).await {
        assert_eq!(d.status, DeliveryStatus::Dead, "{}", d.kind);
        assert_eq!(
            d.last_error.as_deref(),
            Some("not sent: the recipient was deactivated")
        );
    }
    let before = deliveries_to(&app, staff).await.len();
    publish_on_topic(&app, &ch, "Moodle downtime", &topic).await;
    let report = app
        .run_digests(chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    let _ = report;
    assert_eq!(
        deliveries_to(&app, staff).await.len(),
        before,
        "nothing new for them"
    );
    app.drain_mail().await;

    // What they asked stays, under their name, marked as former; they have no roles now.
    let read = app
        .graphql(
            "query($q: ID!) { question(id: $q) { title asker { displayName former } } }",
            json!({ "q": question }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&read);
    assert_eq!(read["data"]["question"]["title"], "Exam rooms");
    assert_eq!(read["data"]["question"]["asker"]["former"], true, "{read}");
    // The page says so, in the reader's language.
    let mut mentor = crate::pages::signed_in(&app, "science.mentor").await;
    let page = mentor
        .get(&format!("/questions/{}", question.as_str().unwrap()))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Exam rooms"), "{}", page.body);
    assert!(page.body.contains("(entinen jäsen)"), "{}", page.body);
    let members = app
        .graphql(
            "{ organization(slug: \"science\") { members { person { id } } } }",
            json!({}),
            ch.token("admin"),
        )
        .await;
    assert_ok(&members);
    assert!(
        !members
            .to_string()
            .contains(&ch.user_id("science.staff").to_string()),
        "{members}"
    );

    // Twice is a conflict; oneself is refused.
    let again = app
        .graphql(DEACTIVATE, who.clone(), ch.token("admin"))
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"), "{again}");
    let own = app
        .graphql(
            DEACTIVATE,
            json!({ "u": ch.user_id("admin").to_string() }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&own).as_deref(), Some("BAD_USER_INPUT"), "{own}");

    // Reactivated, they sign in again, no longer marked former.
    for role in ["lead", "science.mentor"] {
        let body = app.graphql(REACTIVATE, who.clone(), ch.token(role)).await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{role}");
    }
    let back = app
        .graphql(REACTIVATE, who.clone(), ch.token("admin"))
        .await;
    assert_ok(&back);
    assert!(back["data"]["reactivateUser"]["deactivatedAt"].is_null());
    let token = app.login(staff, PASSWORD).await;
    assert!(!token.is_empty());
    let read = app
        .graphql(
            "query($q: ID!) { question(id: $q) { asker { former } } }",
            json!({ "q": question }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(read["data"]["question"]["asker"]["former"], false, "{read}");
    let page = mentor
        .get(&format!("/questions/{}", question.as_str().unwrap()))
        .await;
    assert!(!page.body.contains("(entinen jäsen)"));
    let again = app.graphql(REACTIVATE, who, ch.token("admin")).await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"), "{again}");
}

const USERS: &str = "query($s: String, $o: ID, $r: Role, $a: Boolean, $f: Int) { users(search: $s, organizationId: $o, role: $r, active: $a, first: $f) { edges { node { email } } pageInfo { hasNextPage } } }";

fn emails(body: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = body["data"]["users"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["email"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn admins_find_people_by_name_email_organization_role_and_state() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let admin = ch.token("admin");
    let found = app
        .graphql(USERS, json!({ "s": "SCIENCE.st" }), admin)
        .await;
    assert_ok(&found);
    assert_eq!(
        emails(&found),
        ["science.staff2@uni.test", "science.staff@uni.test"]
    );
    // A search is text, not a pattern.
    let pattern = app.graphql(USERS, json!({ "s": "%" }), admin).await;
    assert_eq!(emails(&pattern), Vec::<String>::new());
    let pattern = app.graphql(USERS, json!({ "s": "_" }), admin).await;
    assert_eq!(emails(&pattern), Vec::<String>::new());
    let mentors = app
        .graphql(
            USERS,
            json!({ "o": ch.org("science"), "r": "MENTOR" }),
            admin,
        )
        .await;
    assert_eq!(
        emails(&mentors),
        ["science.comentor@uni.test", "science.mentor@uni.test"]
    );
    let everyone = app.graphql(USERS, json!({}), admin).await;
    let all = emails(&everyone).len();
    assert!(all >= 11, "{everyone}");
    let paged = app.graphql(USERS, json!({ "f": 2 }), admin).await;
    assert_eq!(emails(&paged).len(), 2);
    assert_eq!(paged["data"]["users"]["pageInfo"]["hasNextPage"], true);
    assert_ok(
        &app.graphql(
            DEACTIVATE,
            json!({ "u": ch.user_id("arts.staff").to_string() }),
            admin,
        )
        .await,
    );
    let gone = app.graphql(USERS, json!({ "a": false }), admin).await;
    assert_eq!(emails(&gone), ["arts.staff@uni.test"]);
    let active = app.graphql(USERS, json!({ "a": true }), admin).await;
    assert_eq!(emails(&active).len(), all - 1);
    for role in ["lead", "science.mentor", "science.staff", "unit.contact"] {
        let body = app.graphql(USERS, json!({}), ch.token(role)).await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{role}");
    }
    let body = app.graphql(USERS, json!({}), None).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    let long = app
        .graphql(USERS, json!({ "s": "x".repeat(201) }), admin)
        .await;
    assert_eq!(error_code(&long).as_deref(), Some("BAD_USER_INPUT"));
}

const PROFILE: &str = "mutation($n: String, $l: Locale, $z: String) { updateProfile(input: { displayName: $n, locale: $l, timeZone: $z }) { displayName locale timeZone } }";

#[tokio::test]
async fn people_change_their_own_name_language_and_time_zone() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let me = ch.token("science.staff");
    let changed = app
        .graphql(
            PROFILE,
            json!({ "n": "  Saara Tiede ", "l": "SV", "z": "Europe/Stockholm" }),
            me,
        )
        .await;
    assert_ok(&changed);
    assert_eq!(
        changed["data"]["updateProfile"],
        json!({ "displayName": "Saara Tiede", "locale": "SV", "timeZone": "Europe/Stockholm" })
    );
    // Only what is given changes.
    let name_only = app.graphql(PROFILE, json!({ "n": "Saara T." }), me).await;
    assert_eq!(
        name_only["data"]["updateProfile"],
        json!({ "displayName": "Saara T.", "locale": "SV", "timeZone": "Europe/Stockholm" })
    );
    for (variables, field) in [
        (json!({ "n": "" }), "displayName"),
        (json!({ "n": "two\nlines" }), "displayName"),
        (json!({ "n": "x".repeat(201) }), "displayName"),
        (json!({ "z": "Mars/Olympus" }), "timeZone"),
    ] {
        let bad = app.graphql(PROFILE, variables.clone(), me).await;
        assert_eq!(
            error_code(&bad).as_deref(),
            Some("BAD_USER_INPUT"),
            "{variables}"
        );
        assert_eq!(bad["errors"][0]["extensions"]["field"], field);
    }
    let mine = app
        .graphql("{ me { displayName locale } }", json!({}), me)
        .await;
    assert_eq!(
        mine["data"]["me"]["displayName"], "Saara T.",
        "nothing lost"
    );
    let body = app.graphql(PROFILE, json!({ "n": "X" }), None).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    let events = entity::event::Entity::find()
        .filter(entity::event::Column::Kind.eq("user.updated"))
        .filter(entity::event::Column::SubjectId.eq(ch.user_id("science.staff")))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
}
