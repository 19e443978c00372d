//! Topic subscriptions, immediate topic emails, digests with exact windows, and one-click
//! unsubscribe.

use chrono::{DateTime, Utc};
use digimentor::notify::payloads::DigestMail;
use digimentor::notify::render::Renderer;
use entity::delivery;
use entity::topic_subscription::{self, Frequency};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{Channel, TestApp, assert_ok, error_code, spawn_app, spawn_app_with};
use crate::smtp::{Received, SmtpSink};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn topic(app: &TestApp, ch: &Channel, slug: &str) -> String {
    let body = app
        .graphql(
            "mutation($s: String!) { createTopic(input: { slug: $s, nameFi: \"Aihe\", nameSv: \"Ämne\", nameEn: \"Topic\" }) { id } }",
            json!({ "s": slug }),
            ch.token("admin"),
        )
        .await;
    body["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn subscribe(app: &TestApp, ch: &Channel, who: &str, topic: &str, frequency: &str) {
    let body = app
        .graphql(
            "mutation($t: ID!, $f: Frequency!) { subscribeTopic(topicId: $t, frequency: $f) { frequency } }",
            json!({ "t": topic, "f": frequency }),
            ch.token(who),
        )
        .await;
    assert_ok(&body);
}

/// Publishes an inquiry with a topic and dates its `inquiry.published` event at `when`.
async fn published_at(
    app: &TestApp,
    ch: &Channel,
    title: &str,
    communities: &[&str],
    topic: &str,
    when: Option<DateTime<Utc>>,
) -> String {
    let ids: Vec<String> = communities.iter().map(|c| ch.org(c)).collect();
    let created = app
        .graphql(
            "mutation($o: ID!, $t: String!, $c: [ID!]!, $topic: ID!) { createInquiry(input: { organizationId: $o, title: $t, body: \"b\", communityIds: $c, topicIds: [$topic] }) { id } }",
            json!({ "o": ch.org("management"), "t": title, "c": ids, "topic": topic }),
            ch.token("lead"),
        )
        .await;
    let id = created["data"]["createInquiry"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { publishInquiry(id: $id) { id } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await,
    );
    if let Some(when) = when {
        entity::event::Entity::update_many()
            .col_expr(entity::event::Column::CreatedAt, Expr::value(when))
            .filter(entity::event::Column::Kind.eq("inquiry.published"))
            .filter(entity::event::Column::SubjectId.eq(uuid::Uuid::parse_str(&id).unwrap()))
            .exec(&app.state.db)
            .await
            .unwrap();
    }
    id
}

async fn digests_for(app: &TestApp, email: &str) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .filter(delivery::Column::Kind.eq("digest"))
        .filter(delivery::Column::RecipientEmail.eq(email))
        .all(&app.state.db)
        .await
        .unwrap()
}

/// A digest's headlines, worded by the email templates in the recipient's language.
fn headlines(d: &delivery::Model) -> Vec<String> {
    let renderer = Renderer::new(
        "http://digimentor.test".parse().unwrap(),
        "Digimentor <digimentor@digimentor.test>".parse().unwrap(),
    )
    .unwrap();
    let digest: DigestMail = serde_json::from_value(d.payload.clone()).unwrap();
    digest
        .groups
        .iter()
        .flat_map(|g| g.items.iter())
        .map(|item| renderer.headline(item, &d.locale).unwrap())
        .collect()
}

#[tokio::test]
async fn subscriptions_and_settings_are_per_user_and_validated() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    let ai = topic(&app, &ch, "ai").await;
    subscribe(&app, &ch, "science.staff", &moodle, "DAILY").await;
    subscribe(&app, &ch, "science.staff", &ai, "IMMEDIATE").await;
    subscribe(&app, &ch, "science.staff", &moodle, "WEEKLY").await;
    let mine = app
        .graphql(
            "{ mySubscriptions { topic { slug } frequency } }",
            json!({}),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(
        mine["data"]["mySubscriptions"],
        json!([{ "topic": { "slug": "ai" }, "frequency": "IMMEDIATE" }, { "topic": { "slug": "moodle" }, "frequency": "WEEKLY" }])
    );
    let others = app
        .graphql(
            "{ mySubscriptions { frequency } }",
            json!({}),
            ch.token("arts.staff"),
        )
        .await;
    assert_eq!(others["data"]["mySubscriptions"], json!([]));

    let removed = app
        .graphql(
            "mutation($t: ID!) { unsubscribeTopic(topicId: $t) }",
            json!({ "t": ai }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(removed["data"]["unsubscribeTopic"], true);
    let again = app
        .graphql(
            "mutation($t: ID!) { unsubscribeTopic(topicId: $t) }",
            json!({ "t": ai }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(again["data"]["unsubscribeTopic"], false);

    let settings = "mutation($i: NotificationSettingsInput!) { updateNotificationSettings(input: $i) { digestHour digestWeekday timeZone locale } }";
    let me = app
        .graphql(
            "{ me { digestHour digestWeekday timeZone } }",
            json!({}),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "digestHour": 7, "digestWeekday": 0, "timeZone": "Europe/Helsinki" })
    );
    let updated = app.graphql(settings, json!({ "i": { "digestHour": 16, "digestWeekday": 4, "timeZone": "America/New_York", "locale": "SV" } }), ch.token("science.staff")).await;
    assert_eq!(
        updated["data"]["updateNotificationSettings"],
        json!({ "digestHour": 16, "digestWeekday": 4, "timeZone": "America/New_York", "locale": "SV" })
    );
    for (input, field) in [
        (json!({ "digestHour": 24 }), "digestHour"),
        (json!({ "digestWeekday": 7 }), "digestWeekday"),
        (json!({ "timeZone": "Mars/Base" }), "timeZone"),
    ] {
        let body = app
            .graphql(settings, json!({ "i": input }), ch.token("science.staff"))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let unknown = app
        .graphql(
            "mutation($t: ID!) { subscribeTopic(topicId: $t, frequency: DAILY) { frequency } }",
            json!({ "t": uuid::Uuid::now_v7().to_string() }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(error_code(&unknown).as_deref(), Some("BAD_USER_INPUT"));
    let visitor = app
        .graphql("{ mySubscriptions { frequency } }", json!({}), None)
        .await;
    assert_eq!(error_code(&visitor).as_deref(), Some("UNAUTHENTICATED"));
}

fn to_of(m: &Received) -> String {
    m.to[0].trim_matches(|c| c == '<' || c == '>').to_owned()
}

fn header(message: &mail_parser::Message<'_>, name: &str) -> String {
    match message.header(name) {
        Some(mail_parser::HeaderValue::Text(t)) => t.to_string(),
        Some(mail_parser::HeaderValue::Address(a)) => a
            .first()
            .and_then(|a| a.address())
            .map(|a| format!("<{a}>"))
            .unwrap_or_default(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

#[tokio::test]
async fn immediate_subscribers_who_may_read_get_one_topic_email_with_one_click_unsubscribe() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    let ai = topic(&app, &ch, "ai").await;
    for who in ["arts.staff", "arts.mentor", "library.contact"] {
        subscribe(&app, &ch, who, &moodle, "IMMEDIATE").await;
    }
    subscribe(&app, &ch, "arts.staff", &ai, "DAILY").await;
    published_at(&app, &ch, "Exams in Moodle", &["arts"], &moodle, None).await;
    app.drain_mail().await;

    let messages = sink.messages();
    let mut recipients: Vec<String> = messages.iter().map(to_of).collect();
    recipients.sort();
    // The mentor gets the inquiry email once, not a second topic email; the library contact may
    // not read the inquiry and gets nothing.
    assert_eq!(recipients, ["arts.mentor@uni.test", "arts.staff@uni.test"]);
    let to_staff = messages
        .iter()
        .find(|m| to_of(m) == "arts.staff@uni.test")
        .unwrap();
    let message = to_staff.parsed();
    assert_eq!(
        message.subject(),
        Some("[Digimentor] Aihe: Uusi kysely (management fi): Exams in Moodle")
    );
    assert_eq!(
        header(&message, "List-Id"),
        "<moodle.topics.digimentor.test>"
    );
    assert_eq!(
        header(&message, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let list_unsubscribe = header(&message, "List-Unsubscribe");
    let unsubscribe_url = list_unsubscribe
        .trim_matches(|c| c == '<' || c == '>')
        .to_owned();
    assert!(
        unsubscribe_url.starts_with("http://digimentor.test/unsubscribe/"),
        "{list_unsubscribe}"
    );
    assert!(
        message.body_text(0).unwrap().contains(&unsubscribe_url),
        "the footer links to it too"
    );

    // The link works on this server without login; mail scanners' GETs change nothing.
    let path = unsubscribe_url.trim_start_matches("http://digimentor.test");
    let page = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\"") && html.contains("Peru tilaus"),
        "{html}"
    );
    let count = || async {
        topic_subscription::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 4, "GET must not unsubscribe");
    for _ in 0..2 {
        let post = reqwest::Client::new()
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), 200, "POST is idempotent");
    }
    let left: Vec<(String, Frequency)> = topic_subscription::Entity::find()
        .filter(topic_subscription::Column::UserId.eq(ch.user_id("arts.staff")))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.topic_id.to_string(), s.frequency))
        .collect();
    assert_eq!(
        left,
        [(ai.clone(), Frequency::Daily)],
        "unsubscribing one topic keeps the others"
    );

    // Forged and tampered tokens are refused.
    let token = path.trim_start_matches("/unsubscribe/");
    let (payload, signature) = token.split_once('.').unwrap();
    let forged_payload = base64_url(&format!("{}:digests", ch.user_id("arts.mentor")));
    for bad in [
        format!("{forged_payload}.{signature}"),
        format!("{payload}.AAAA"),
        "nonsense".to_owned(),
        "x".repeat(5000),
    ] {
        let response = reqwest::Client::new()
            .post(app.url(&format!("/unsubscribe/{bad}")))
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{bad}: {}",
            response.status()
        );
    }
    assert_eq!(count().await, 3);
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn daily_windows_are_exact_across_the_march_dst_change_and_items_land_once() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    subscribe(&app, &ch, "science.staff", &moodle, "DAILY").await;
    // Helsinki springs forward on 28 March 2027: 07:00 local is 05:00 UTC before, 04:00 after.
    published_at(
        &app,
        &ch,
        "Saturday morning",
        &["science"],
        &moodle,
        Some(at("2027-03-27T05:30:00Z")),
    )
    .await;
    published_at(
        &app,
        &ch,
        "Sunday 06:59",
        &["science"],
        &moodle,
        Some(at("2027-03-28T03:59:59Z")),
    )
    .await;
    published_at(
        &app,
        &ch,
        "Sunday 07:00 exactly",
        &["science"],
        &moodle,
        Some(at("2027-03-28T04:00:00Z")),
    )
    .await;

    // The first window (Friday 07:00 → Saturday 07:00) is empty: nothing is sent.
    let first = app.run_digests(at("2027-03-27T06:00:00Z")).await.unwrap();
    assert_eq!((first.queued, first.empty), (0, 1));
    // Saturday 07:00 EET → Sunday 07:00 EEST, 23 hours.
    assert_eq!(
        app.run_digests(at("2027-03-28T04:30:00Z"))
            .await
            .unwrap()
            .queued,
        1
    );
    let sent = digests_for(&app, "science.staff@uni.test").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].payload["window_start"],
        json!("2027-03-27T05:00:00Z")
    );
    assert_eq!(sent[0].payload["window_end"], json!("2027-03-28T04:00:00Z"));
    let mut first_items = headlines(&sent[0]);
    first_items.sort();
    assert_eq!(
        first_items,
        [
            "Uusi kysely (management fi): Saturday morning",
            "Uusi kysely (management fi): Sunday 06:59"
        ]
    );
    // The item published exactly at the boundary is in the next digest, and only there.
    assert_eq!(
        app.run_digests(at("2027-03-28T04:30:00Z"))
            .await
            .unwrap()
            .queued,
        0
    );
    assert_eq!(
        app.run_digests(at("2027-03-29T04:00:00Z"))
            .await
            .unwrap()
            .queued,
        1
    );
    let sent = digests_for(&app, "science.staff@uni.test").await;
    let latest = sent.iter().max_by_key(|d| d.created_at).unwrap();
    assert_eq!(
        headlines(latest),
        ["Uusi kysely (management fi): Sunday 07:00 exactly"]
    );
}

#[tokio::test]
async fn the_daily_window_is_25_hours_when_the_clocks_go_back_in_october() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    subscribe(&app, &ch, "science.staff", &moodle, "DAILY").await;
    // Helsinki falls back on 31 October 2027: 07:00 local is 04:00 UTC before, 05:00 after.
    app.run_digests(at("2027-10-30T04:30:00Z")).await.unwrap();
    published_at(
        &app,
        &ch,
        "Sunday 06:30 local",
        &["science"],
        &moodle,
        Some(at("2027-10-31T04:30:00Z")),
    )
    .await;
    published_at(
        &app,
        &ch,
        "Sunday 07:00 local",
        &["science"],
        &moodle,
        Some(at("2027-10-31T05:00:00Z")),
    )
    .await;
    // 04:30 UTC on the 31st is 06:30 local: the window has not closed yet.
    assert_eq!(
        app.run_digests(at("2027-10-31T04:45:00Z"))
            .await
            .unwrap()
            .queued,
        0
    );
    assert_eq!(
        app.run_digests(at("2027-10-31T05:00:00Z"))
            .await
            .unwrap()
            .queued,
        1
    );
    let sent = digests_for(&app, "science.staff@uni.test").await;
    assert_eq!(
        sent[0].payload["window_start"],
        json!("2027-10-30T04:00:00Z")
    );
    assert_eq!(sent[0].payload["window_end"], json!("2027-10-31T05:00:00Z"));
    assert_eq!(
        headlines(&sent[0]),
        ["Uusi kysely (management fi): Sunday 06:30 local"]
    );
}

#[tokio::test]
async fn weekly_digests_come_on_the_chosen_weekday_in_the_users_zone() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    subscribe(&app, &ch, "arts.staff", &moodle, "WEEKLY").await;
    app.graphql(
        "mutation { updateNotificationSettings(input: { digestHour: 9, digestWeekday: 4, timeZone: \"America/New_York\" }) { digestHour } }",
        json!({}),
        ch.token("arts.staff"),
    )
    .await;
    // Friday 8 January 2027, 09:00 in New York is 14:00 UTC.
    assert_eq!(
        app.run_digests(at("2027-01-08T14:30:00Z"))
            .await
            .unwrap()
            .queued,
        0
    );
    published_at(
        &app,
        &ch,
        "Tuesday news",
        &["arts"],
        &moodle,
        Some(at("2027-01-12T10:00:00Z")),
    )
    .await;
    // Not on Wednesday or on Friday before 09:00 local.
    assert_eq!(
        app.run_digests(at("2027-01-13T15:00:00Z"))
            .await
            .unwrap()
            .queued,
        0
    );
    assert_eq!(
        app.run_digests(at("2027-01-15T13:59:00Z"))
            .await
            .unwrap()
            .queued,
        0
    );
    assert_eq!(
        app.run_digests(at("2027-01-15T14:00:00Z"))
            .await
            .unwrap()
            .queued,
        1
    );
    let sent = digests_for(&app, "arts.staff@uni.test").await;
    assert_eq!(sent[0].payload["frequency"], "weekly");
    assert_eq!(sent[0].payload["window_end"], json!("2027-01-15T14:00:00Z"));
}

#[tokio::test]
async fn after_downtime_one_digest_covers_the_whole_gap() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    subscribe(&app, &ch, "science.staff", &moodle, "DAILY").await;
    app.run_digests(at("2027-02-01T06:00:00Z")).await.unwrap();
    for (day, title) in [("02", "Tuesday"), ("03", "Wednesday"), ("04", "Thursday")] {
        published_at(
            &app,
            &ch,
            title,
            &["science"],
            &moodle,
            Some(at(&format!("2027-02-{day}T10:00:00Z"))),
        )
        .await;
    }
    // The service was down until Friday noon.
    assert_eq!(
        app.run_digests(at("2027-02-05T10:00:00Z"))
            .await
            .unwrap()
            .queued,
        1
    );
    assert_eq!(
        app.run_digests(at("2027-02-05T11:00:00Z"))
            .await
            .unwrap()
            .queued,
        0
    );
    let sent = digests_for(&app, "science.staff@uni.test").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(headlines(&sent[0]).len(), 3);
    assert_eq!(
        sent[0].payload["window_start"],
        json!("2027-02-01T05:00:00Z")
    );
    assert_eq!(sent[0].payload["window_end"], json!("2027-02-05T05:00:00Z"));
}

#[tokio::test]
async fn digests_hold_only_what_the_recipient_may_read_and_mentors_see_what_waits() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    for who in ["science.mentor", "arts.staff", "library.contact"] {
        subscribe(&app, &ch, who, &moodle, "DAILY").await;
    }
    app.run_digests(at("2027-02-01T06:00:00Z")).await.unwrap();
    published_at(
        &app,
        &ch,
        "For science only",
        &["science"],
        &moodle,
        Some(at("2027-02-01T10:00:00Z")),
    )
    .await;
    let report = app.run_digests(at("2027-02-02T06:00:00Z")).await.unwrap();
    assert_eq!(report.queued, 1, "{report:?}");
    assert!(
        digests_for(&app, "arts.staff@uni.test").await.is_empty(),
        "arts may not read it"
    );
    assert!(
        digests_for(&app, "library.contact@uni.test")
            .await
            .is_empty()
    );
    let mentor = digests_for(&app, "science.mentor@uni.test").await;
    let waiting = mentor[0].payload["waiting"].as_array().unwrap();
    assert_eq!(waiting[0]["title"], "For science only");
    assert_eq!(waiting[0]["community"], "science fi");

    // Rendered, the waiting list opens the digest.
    let rendered = digimentor::notify::render::Renderer::new(
        url::Url::parse("http://digimentor.test").unwrap(),
        "x@digimentor.test".parse().unwrap(),
    )
    .unwrap()
    .message(&mentor[0], &Default::default())
    .unwrap();
    let text = String::from_utf8(rendered.formatted()).unwrap();
    let parsed = mail_parser::MessageParser::default()
        .parse(text.as_bytes())
        .unwrap();
    let body = parsed.body_text(0).unwrap();
    let waiting_at = body.find("Odottaa yksikkösi vastausta").unwrap();
    let topic_at = body.find("## Aihe").unwrap();
    assert!(waiting_at < topic_at, "{body}");
    assert_eq!(header(&parsed, "List-Id"), "<daily-digest.digimentor.test>");
    assert!(header(&parsed, "List-Unsubscribe").contains("/unsubscribe/"));
}

#[tokio::test]
async fn two_digest_runs_at_once_send_one_email() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    subscribe(&app, &ch, "science.staff", &moodle, "DAILY").await;
    app.run_digests(at("2027-02-01T06:00:00Z")).await.unwrap();
    published_at(
        &app,
        &ch,
        "Once",
        &["science"],
        &moodle,
        Some(at("2027-02-01T10:00:00Z")),
    )
    .await;
    let now = at("2027-02-02T06:00:00Z");
    let (a, b) = tokio::join!(app.run_digests(now), app.run_digests(now));
    assert_eq!(a.unwrap().queued + b.unwrap().queued, 1);
    assert_eq!(digests_for(&app, "science.staff@uni.test").await.len(), 1);
}

#[tokio::test]
async fn a_run_with_more_digests_than_a_statement_holds_queues_each_once_with_its_items() {
    use sea_orm::ActiveValue::Set;
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let moodle = topic(&app, &ch, "moodle").await;
    let moodle_id: uuid::Uuid = moodle.parse().unwrap();
    // 230 people (more than two statements' worth of digests) follow the topic daily.
    let now = Utc::now();
    let users: Vec<entity::user::ActiveModel> = (0..230)
        .map(|n| entity::user::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            email: Set(format!("reader{n}@uni.test")),
            display_name: Set(format!("Reader {n}")),
            locale: Set([
                entity::user::Locale::Fi,
                entity::user::Locale::Sv,
                entity::user::Locale::En,
            ][n % 3]),
            time_zone: Set("Europe/Helsinki".into()),
            digest_hour: Set(7),
            digest_weekday: Set(0),
            is_admin: Set(false),
            password_hash: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            email_suspended_at: Set(None),
            deactivated_at: Set(None),
            oidc_subject: Set(None),
            erased_at: Set(None),
        })
        .collect();
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| *u.id.as_ref()).collect();
    entity::user::Entity::insert_many(users)
        .exec_without_returning(&app.state.db)
        .await
        .unwrap();
    entity::topic_subscription::Entity::insert_many(ids.iter().map(|id| {
        topic_subscription::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            user_id: Set(*id),
            topic_id: Set(moodle_id),
            frequency: Set(Frequency::Daily),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }))
    .exec_without_returning(&app.state.db)
    .await
    .unwrap();
    // The first run opens everyone's window; a public tip about the topic lands in it.
    app.run_digests(at("2027-02-01T06:00:00Z")).await.unwrap();
    let tip = app
        .graphql(
            "mutation($o: ID!, $t: ID!) { createTip(organizationId: $o, input: { title: \"Shared tip\", body: \"b\", topicIds: [$t] }) { id } }",
            json!({ "o": ch.org("science"), "t": moodle }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&tip);
    entity::event::Entity::update_many()
        .col_expr(
            entity::event::Column::CreatedAt,
            Expr::value(at("2027-02-01T10:00:00Z")),
        )
        .filter(entity::event::Column::Kind.eq("tip.created"))
        .exec(&app.state.db)
        .await
        .unwrap();
    let report = app.run_digests(at("2027-02-02T06:00:00Z")).await.unwrap();
    assert_eq!(report.queued, 230, "{report:?}");
    for n in [0, 99, 100, 199, 200, 229] {
        let digests = digests_for(&app, &format!("reader{n}@uni.test")).await;
        assert_eq!(digests.len(), 1, "reader{n}");
        let lines = headlines(&digests[0]);
        assert_eq!(lines.len(), 1, "reader{n}: {lines:?}");
        assert!(lines[0].contains("Shared tip"), "reader{n}: {lines:?}");
    }
    let closed = entity::digest_state::Entity::find()
        .filter(entity::digest_state::Column::UserId.is_in(ids.clone()))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(closed.len(), 230);
    assert!(
        closed
            .iter()
            .all(|s| s.covered_until == at("2027-02-02T05:00:00Z"))
    );
    let again = app.run_digests(at("2027-02-02T06:00:00Z")).await.unwrap();
    assert_eq!(again.queued + again.empty, 0, "{again:?}");
}
