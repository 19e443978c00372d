//! Email through a real SMTP conversation: rules, rendering, threading, the outbox and its
//! worker under faults, and deadline reminders.

use std::time::Duration;

use chrono::Utc;
use digimentor::notify::outbox;
use digimentor::scheduler;
use entity::delivery::{self, DeliveryStatus};
use mail_parser::HeaderValue;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

use crate::helpers::{TestApp, assert_ok, error_code, spawn_app_with};
use crate::smtp::{Mode, Received, SmtpSink};

async fn app_with_sink(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await
}

pub(crate) async fn set_locale(app: &TestApp, email: &str, locale: entity::user::Locale) {
    let user = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(email))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    entity::user::Entity::update(entity::user::ActiveModel {
        id: Set(user.id),
        locale: Set(locale),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .unwrap();
}

fn to_of(m: &Received) -> String {
    m.to[0].trim_matches(|c| c == '<' || c == '>').to_owned()
}

/// Who got `messages`, sorted.
fn recipients_of(messages: &[Received]) -> Vec<String> {
    let mut recipients: Vec<String> = messages.iter().map(to_of).collect();
    recipients.sort();
    recipients
}

fn for_recipient<'a>(messages: &'a [Received], email: &str) -> Vec<&'a Received> {
    messages.iter().filter(|m| to_of(m) == email).collect()
}

/// The Message-ID of the first email queued for `email` (Message-IDs are the deliveries'
/// time-ordered ids; emails sent in one batch may arrive in any order).
fn first_message_id(messages: &[Received], email: &str) -> String {
    for_recipient(messages, email)
        .iter()
        .map(|m| m.parsed().message_id().unwrap().to_owned())
        .min()
        .unwrap()
}

fn header_text(message: &mail_parser::Message<'_>, name: &str) -> String {
    match message.header(name) {
        Some(HeaderValue::Text(t)) => t.to_string(),
        Some(HeaderValue::TextList(list)) => list.join(" "),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn reply_to(message: &mail_parser::Message<'_>) -> Vec<String> {
    message
        .reply_to()
        .map(|a| {
            a.iter()
                .filter_map(|a| a.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn publishing_an_inquiry_emails_each_mentor_once_in_their_language() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    set_locale(&app, "science.comentor@uni.test", entity::user::Locale::Sv).await;
    set_locale(&app, "arts.mentor@uni.test", entity::user::Locale::En).await;
    let (id, _) = app
        .published_inquiry(&ch, "Moodle exam practices", &["science", "arts"])
        .await;
    app.drain_mail().await;

    let messages = sink.messages();
    let recipients = recipients_of(&messages);
    assert_eq!(
        recipients,
        [
            "arts.mentor@uni.test",
            "science.comentor@uni.test",
            "science.mentor@uni.test"
        ]
    );
    for (email, subject) in [
        (
            "science.mentor@uni.test",
            "Moodle exam practices – Digimentor-kysely",
        ),
        (
            "science.comentor@uni.test",
            "Moodle exam practices – Digimentor-förfrågan",
        ),
        (
            "arts.mentor@uni.test",
            "Moodle exam practices – Digimentor inquiry",
        ),
    ] {
        let received = for_recipient(&messages, email);
        assert_eq!(received.len(), 1, "{email}");
        let message = received[0].parsed();
        assert_eq!(message.subject(), Some(subject));
        assert_eq!(
            message.from().unwrap().first().unwrap().address(),
            Some("digimentor@digimentor.test")
        );
        assert_eq!(received[0].from, "<digimentor@digimentor.test>");
        assert_eq!(
            reply_to(&message),
            ["lead@uni.test"],
            "a human answers replies"
        );
        assert_eq!(header_text(&message, "Auto-Submitted"), "auto-generated");
        // The first email of the thread to this person is its root: it refers to nothing.
        assert!(message.in_reply_to().is_empty(), "{email}");
        assert!(message.references().is_empty(), "{email}");
        assert!(header_text(&message, "Thread-Topic").starts_with("Moodle exam practices"));
        // Multipart: a readable text part and an HTML part from the same template.
        assert_eq!(message.text_body_count(), 1);
        assert_eq!(message.html_body_count(), 1);
        let text = message.body_text(0).unwrap();
        let html = message.body_html(0).unwrap();
        assert!(text.contains("What do you need?"), "{text}");
        assert!(
            text.contains(&format!("http://digimentor.test/inquiries/{id}")),
            "{text}"
        );
        assert!(html.contains(&format!("http://digimentor.test/inquiries/{id}")));
        assert!(!text.contains('<'), "the text part is not HTML: {text}");
        // The Message-ID is the delivery's.
        let stored = delivery::Entity::find()
            .filter(delivery::Column::RecipientEmail.eq(email))
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            format!("<{}>", message.message_id().unwrap()),
            stored.message_id
        );
        assert_eq!(stored.status, DeliveryStatus::Sent);
        assert!(stored.sent_at.is_some());
    }
    // Nobody is emailed about their own action.
    assert!(for_recipient(&messages, "lead@uni.test").is_empty());
}

#[tokio::test]
async fn answers_and_thread_messages_reach_the_other_side_in_the_same_thread() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    set_locale(&app, "lead@uni.test", entity::user::Locale::En).await;
    let (id, slots) = app
        .published_inquiry(&ch, "AI guidelines", &["science"])
        .await;
    app.drain_mail().await;
    let before = sink.messages().len();

    let answer = "mutation($t: ID!) { answerInquiry(input: { targetId: $t, body: \"We need **training**.\", expectedVersion: 0 }) { id } }";
    assert_ok(
        &app.graphql(
            answer,
            json!({ "t": slots["science"] }),
            ch.token("science.mentor"),
        )
        .await,
    );
    app.drain_mail().await;
    let sent = sink.messages()[before..].to_vec();
    let recipients = recipients_of(&sent);
    assert_eq!(
        recipients,
        ["lead@uni.test", "science.comentor@uni.test"],
        "the inquirer's side once, and the co-mentor"
    );
    // The co-mentor reads what was said for their unit, and by whom.
    let comentor = for_recipient(&sent, "science.comentor@uni.test")[0].parsed();
    let told = comentor.body_text(0).unwrap().to_string();
    assert!(
        told.contains("vastasi yksikkösi puolesta") && told.contains("We need **training**."),
        "{told}"
    );
    assert!(
        comentor
            .from()
            .unwrap()
            .first()
            .unwrap()
            .name()
            .unwrap()
            .starts_with("science mentor via"),
        "from the co-mentor who answered"
    );
    let messages: Vec<Received> = sent
        .iter()
        .filter(|m| to_of(m) == "lead@uni.test")
        .cloned()
        .collect();
    let message = messages[0].parsed();
    assert_eq!(
        message.subject(),
        Some("Re: AI guidelines – Digimentor inquiry")
    );
    let mut replies = reply_to(&message);
    replies.sort();
    assert_eq!(
        replies,
        ["science.comentor@uni.test", "science.mentor@uni.test"],
        "replies reach the mentors"
    );
    assert!(
        message
            .body_html(0)
            .unwrap()
            .contains("<strong>training</strong>")
    );
    assert!(
        message.references().is_empty(),
        "the lead's first email about inquiry {id} is the thread's root"
    );

    let before_message = sink.messages().len();
    let post = "mutation($t: ID!, $b: String!) { postInquiryMessage(input: { targetId: $t, body: $b }) { id } }";
    assert_ok(
        &app.graphql(
            post,
            json!({ "t": slots["science"], "b": "Which kind of training?" }),
            ch.token("lead"),
        )
        .await,
    );
    app.drain_mail().await;
    let to_mentors = sink.messages()[before_message..].to_vec();
    let recipients = recipients_of(&to_mentors);
    assert_eq!(
        recipients,
        ["science.comentor@uni.test", "science.mentor@uni.test"]
    );
    // Each mentor's message threads under the invitation that mentor was sent.
    // Each mentor's message threads under the invitation that mentor was sent (the root), in
    // reply to the latest email of the thread they got.
    for message in &to_mentors {
        let all = sink.messages();
        let this = message.parsed().message_id().unwrap().to_owned();
        let mut earlier: Vec<String> = for_recipient(&all, &to_of(message))
            .iter()
            .map(|m| m.parsed().message_id().unwrap().to_owned())
            .filter(|id| *id < this)
            .collect();
        earlier.sort();
        let parsed = message.parsed();
        let references: Vec<String> = parsed
            .references()
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(references.first(), earlier.first(), "the root");
        assert_eq!(references.last(), earlier.last(), "the latest");
        assert_eq!(
            parsed.in_reply_to().as_text(),
            earlier.last().map(String::as_str)
        );
    }

    assert!(
        to_mentors[0]
            .parsed()
            .body_text(0)
            .unwrap()
            .contains("Which kind of training?")
    );

    let before_back = sink.messages().len();
    assert_ok(
        &app.graphql(
            post,
            json!({ "t": slots["science"], "b": "Prompting basics." }),
            ch.token("science.mentor"),
        )
        .await,
    );
    app.drain_mail().await;
    let back = sink.messages()[before_back..].to_vec();
    assert_eq!(
        back.iter().map(to_of).collect::<Vec<_>>(),
        ["lead@uni.test"]
    );
}

#[tokio::test]
async fn questions_email_the_mentors_then_the_unit_then_the_asker() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    let asked = app
        .graphql(
            "mutation($c: ID!) { askQuestion(input: { communityId: $c, title: \"Captions?\", body: \"Can we get captions?\" }) { id } }",
            json!({ "c": ch.org("science") }),
            ch.token("science.staff"),
        )
        .await;
    let id = asked["data"]["askQuestion"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain_mail().await;
    let mut first: Vec<String> = sink.messages().iter().map(to_of).collect();
    first.sort();
    assert_eq!(
        first,
        ["science.comentor@uni.test", "science.mentor@uni.test"]
    );
    assert_eq!(
        reply_to(&sink.messages()[0].parsed()),
        ["science.staff@uni.test"]
    );

    app.graphql(
        "mutation($q: ID!, $u: ID!) { forwardQuestion(input: { questionId: $q, serviceUnitId: $u, hideAsker: true }) { id } }",
        json!({ "q": id, "u": ch.org("it-services") }),
        ch.token("science.mentor"),
    )
    .await;
    app.drain_mail().await;
    let forwarded = sink.messages()[2..].to_vec();
    assert_eq!(
        forwarded.iter().map(to_of).collect::<Vec<_>>(),
        ["unit.contact@uni.test"]
    );
    let text = forwarded[0].parsed().body_text(0).unwrap().to_string();
    assert!(
        !text.contains("science staff") && !text.contains("science.staff"),
        "the hidden asker leaked: {text}"
    );
    assert!(
        forwarded[0].parsed().references().is_empty(),
        "the contact's first email of question {id}"
    );

    app.graphql(
        "mutation($q: ID!) { answerQuestion(input: { questionId: $q, body: \"Yes.\" }) { id } }",
        json!({ "q": id }),
        ch.token("unit.contact"),
    )
    .await;
    app.drain_mail().await;
    let mut answered: Vec<String> = sink.messages()[3..].iter().map(to_of).collect();
    answered.sort();
    assert_eq!(
        answered,
        ["science.mentor@uni.test", "science.staff@uni.test"]
    );
}

#[tokio::test]
async fn a_person_in_several_notified_groups_gets_one_email() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    // The lead is both the inquirer and a lead of the inquiring organization.
    let (_, slots) = app.published_inquiry(&ch, "Once", &["science"]).await;
    app.drain_mail().await;
    let before = sink.messages().len();
    app.graphql(
        "mutation($t: ID!) { declineInquiry(input: { targetId: $t, reason: \"No\", expectedVersion: 0 }) { id } }",
        json!({ "t": slots["science"] }),
        ch.token("science.mentor"),
    )
    .await;
    app.drain_mail().await;
    assert_eq!(
        sink.messages()[before..]
            .iter()
            .map(to_of)
            .filter(|to| to != "science.comentor@uni.test")
            .collect::<Vec<_>>(),
        ["lead@uni.test"]
    );
}

#[tokio::test]
async fn a_failed_change_queues_no_email() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    let (_, slots) = app
        .published_inquiry(&ch, "Atomic mail", &["science"])
        .await;
    let answer = "mutation($t: ID!, $v: Int!) { answerInquiry(input: { targetId: $t, body: \"x\", expectedVersion: $v }) { id } }";
    assert_ok(
        &app.graphql(
            answer,
            json!({ "t": slots["science"], "v": 0 }),
            ch.token("science.mentor"),
        )
        .await,
    );
    let queued = delivery::Entity::find().count(&app.state.db).await.unwrap();
    let stale = app
        .graphql(
            answer,
            json!({ "t": slots["science"], "v": 0 }),
            ch.token("science.comentor"),
        )
        .await;
    assert_eq!(error_code(&stale).as_deref(), Some("CONFLICT"));
    assert_eq!(
        delivery::Entity::find().count(&app.state.db).await.unwrap(),
        queued
    );
}

#[tokio::test]
async fn mail_waits_while_the_smtp_server_is_down_and_arrives_when_it_is_back() {
    let mut sink = SmtpSink::reserved().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    app.published_inquiry(&ch, "Down", &["arts"]).await;
    let report = app.worker.try_execute_step().await.unwrap();
    assert_eq!((report.sent, report.retrying, report.dead), (0, 1, 0));
    let pending = delivery::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.status, DeliveryStatus::Pending);
    assert_eq!(pending.attempts, 1);
    assert!(pending.last_error.is_some());

    sink.come_up().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    app.drain_mail().await;
    assert_eq!(sink.messages().len(), 1);
    let sent = delivery::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((sent.status, sent.attempts), (DeliveryStatus::Sent, 2));
}

#[tokio::test]
async fn a_batch_is_sent_over_several_connections_at_once_and_each_outcome_recorded() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| {
        c.mail = crate::helpers::smtp(&url);
        c.worker.concurrency = 4;
    })
    .await;
    let ch = app.seed_channel().await;
    app.published_inquiry(&ch, "Twelve", &["arts"]).await;
    let template = delivery::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    for i in 0..11 {
        let id = uuid::Uuid::now_v7();
        let mut copy: delivery::ActiveModel = template.clone().into();
        copy.id = Set(id);
        copy.dedupe_key = Set(format!("copy:{i}"));
        copy.message_id = Set(format!("<{id}@uni.test>"));
        delivery::Entity::insert(copy)
            .exec_without_returning(&app.state.db)
            .await
            .unwrap();
    }
    // Each answer is held long enough that sends in flight together overlap at the sink.
    sink.set_delay(Duration::from_millis(300));
    let report = app.worker.try_execute_step().await.unwrap();
    assert_eq!((report.sent, report.retrying, report.dead), (12, 0, 0));
    assert_eq!(sink.peak_held(), 4, "SMTP_MAX_CONNECTIONS is 4");
    let ids: std::collections::HashSet<_> = sink
        .messages()
        .iter()
        .map(|m| m.parsed().message_id().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 12);
    let sent = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Sent))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(sent, 12);
}

#[tokio::test]
async fn a_permanent_refusal_makes_the_delivery_dead_visible_and_retryable() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    sink.set_mode(Mode::Reject);
    app.published_inquiry(&ch, "Refused", &["arts"]).await;
    let report = app.worker.try_execute_step().await.unwrap();
    assert_eq!(report.dead, 1);

    let list = "query($s: DeliveryStatus, $r: String) { deliveries(status: $s, recipient: $r) { edges { node { id status attempts lastError kind recipientEmail } } } }";
    let dead = app
        .graphql(
            list,
            json!({ "s": "DEAD", "r": "Arts.Mentor@uni.test" }),
            ch.token("admin"),
        )
        .await;
    let node = &dead["data"]["deliveries"]["edges"][0]["node"];
    assert_eq!(node["status"], "DEAD");
    assert_eq!(node["kind"], "inquiry_published");
    assert!(
        node["lastError"].as_str().unwrap().contains("550"),
        "{node}"
    );
    let forbidden = app.graphql(list, json!({}), ch.token("lead")).await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));

    sink.set_mode(Mode::Accept);
    let retry = app
        .graphql(
            "mutation($id: ID!) { retryDelivery(id: $id) { status attempts } }",
            json!({ "id": node["id"] }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(
        retry["data"]["retryDelivery"],
        json!({ "status": "PENDING", "attempts": 0 })
    );
    app.drain_mail().await;
    assert_eq!(sink.messages().len(), 1);
    let again = app
        .graphql(
            "mutation($id: ID!) { retryDelivery(id: $id) { status } }",
            json!({ "id": node["id"] }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(
        error_code(&again).as_deref(),
        Some("CONFLICT"),
        "a sent email is not sent twice"
    );
    let by_staff = app
        .graphql(
            "mutation($id: ID!) { retryDelivery(id: $id) { status } }",
            json!({ "id": node["id"] }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&by_staff).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn temporary_failures_retry_with_backoff_up_to_the_limit() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| {
        c.mail = crate::helpers::smtp(&url);
        c.worker.max_attempts = 3;
        c.worker.retry_base = Duration::from_millis(200);
    })
    .await;
    let ch = app.seed_channel().await;
    sink.set_mode(Mode::TryLater);
    app.published_inquiry(&ch, "Later", &["arts"]).await;
    assert_eq!(app.worker.try_execute_step().await.unwrap().retrying, 1);
    // Not due again before the backoff has passed.
    assert_eq!(app.worker.try_execute_step().await.unwrap().claimed(), 0);
    let first = delivery::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let wait = (first.next_attempt_at - Utc::now()).num_milliseconds();
    assert!((100..=260).contains(&wait), "first retry in {wait} ms");
    for expected_attempts in [2, 3] {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        app.worker.try_execute_step().await.unwrap();
        let d = delivery::Entity::find()
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.attempts, expected_attempts);
    }
    let d = delivery::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, DeliveryStatus::Dead);
    assert!(d.last_error.unwrap().contains("451"));
}

#[tokio::test]
async fn a_connection_that_broke_mid_transaction_is_not_reused() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    sink.set_mode(Mode::HangUp);
    app.published_inquiry(&ch, "Hang up", &["arts"]).await;
    assert_eq!(app.worker.try_execute_step().await.unwrap().retrying, 1);
    sink.set_mode(Mode::Accept);
    tokio::time::sleep(Duration::from_millis(20)).await;
    app.drain_mail().await;
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_hung_smtp_conversation_is_cut_at_its_deadline_and_holds_back_no_other_email() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| {
        c.mail = crate::helpers::smtp(&url);
        c.worker.message_deadline = Duration::from_secs(2);
        // The held email is retried when an admin asks, not in the next step.
        c.worker.retry_base = Duration::from_secs(3600);
    })
    .await;
    let ch = app.seed_channel().await;
    // The server never answers the end of DATA for Arts' mentor; Science's mentors are fine.
    sink.hang_for(Some("arts.mentor"));
    app.published_inquiry(&ch, "Hung", &["arts", "science"])
        .await;
    let started = std::time::Instant::now();
    let report = tokio::time::timeout(Duration::from_secs(20), app.worker.try_execute_step())
        .await
        .expect("the step ended")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report.retrying, 1, "{report:?}");
    assert!(report.sent >= 1, "{report:?}");
    let stuck = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(delivery::DeliveryStatus::Pending))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stuck.recipient_email.contains("arts.mentor"));
    assert!(
        stuck
            .last_error
            .clone()
            .unwrap_or_default()
            .contains("within 2 s")
    );
    // An unrelated email queued after the hang goes out at once: no stuck connection is reused.
    let before = sink.messages().len();
    app.published_inquiry(&ch, "Next", &["science"]).await;
    let started = std::time::Instant::now();
    let report = app.worker.try_execute_step().await.unwrap();
    assert!(report.sent >= 1, "{report:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(sink.messages().len() > before);
    // The server recovers: the held email goes out on its retry.
    sink.hang_for(None);
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { retryDelivery(id: $id) { status } }",
            json!({ "id": stuck.id }),
            ch.token("admin"),
        )
        .await,
    );
    app.drain_mail().await;
    assert!(
        sink.messages()
            .iter()
            .any(|m| m.to.iter().any(|r| r.contains("arts.mentor")))
    );
}

#[tokio::test]
async fn a_worker_that_dies_after_sending_resends_once_with_the_same_message_id() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    app.published_inquiry(&ch, "Crash", &["arts"]).await;

    // A worker claims and sends, then dies before recording the outcome.
    let claimed = outbox::claim(&app.state.db, 10, Duration::from_millis(300), Utc::now())
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    app.worker.send(&claimed[0]).await.unwrap();
    // While its lease lasts nobody else sends it.
    assert_eq!(app.worker.try_execute_step().await.unwrap().claimed(), 0);
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.drain_mail().await;
    app.drain_mail().await;

    let messages = sink.wait_for(2).await;
    assert_eq!(messages.len(), 2, "re-sent at most once");
    assert_eq!(
        messages[0].parsed().message_id(),
        messages[1].parsed().message_id()
    );
    let d = delivery::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Sent, 2));
}

#[tokio::test]
async fn without_smtp_emails_are_written_as_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let app =
        spawn_app_with(move |c| c.mail = digimentor::config::MailTransport::Files(path)).await;
    let ch = app.seed_channel().await;
    app.published_inquiry(&ch, "Files", &["arts"]).await;
    app.drain_mail().await;
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().unwrap(), "eml");
    let bytes = std::fs::read(&files[0]).unwrap();
    let message = mail_parser::MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(
        message.to().unwrap().first().unwrap().address(),
        Some("arts.mentor@uni.test")
    );
    assert!(message.subject().unwrap().contains("Files"));
}

#[tokio::test]
async fn the_running_worker_is_woken_by_a_commit_and_finishes_its_batch_on_shutdown() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let mut app = spawn_app_with(move |c| {
        c.mail = crate::helpers::smtp(&url);
        c.run_workers = true;
    })
    .await;
    let ch = app.seed_channel().await;
    // The fallback poll is 30 s: arriving within seconds means the commit woke the worker.
    app.published_inquiry(&ch, "Wake up", &["arts"]).await;
    sink.wait_for(1).await;

    sink.set_delay(Duration::from_millis(700));
    app.published_inquiry(&ch, "In flight", &["medicine"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let db = app.state.db.clone();
    app.stop().await.unwrap();
    let in_flight = delivery::Entity::find()
        .filter(delivery::Column::RecipientEmail.eq("medicine.mentor@uni.test"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        in_flight.status,
        DeliveryStatus::Sent,
        "shutdown cut the batch short"
    );
    assert_eq!(sink.messages().len(), 2);
}

#[tokio::test]
async fn deadline_reminders_go_to_pending_communities_once_per_stage() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    // Noon in Helsinki ten days ahead, so "30 minutes before" is on the deadline day whatever
    // the hour the test runs at.
    let deadline = {
        use chrono::TimeZone;
        let day = Utc::now()
            .with_timezone(&chrono_tz::Europe::Helsinki)
            .date_naive()
            + chrono::Duration::days(10);
        chrono_tz::Europe::Helsinki
            .from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    let created = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!, $d: DateTime!) { createInquiry(input: { organizationId: $o, title: \"Deadline\", body: \"b\", communityIds: $c, deadline: $d }) { id targets { id community { slug } } } }",
            json!({ "o": ch.org("management"), "c": [ch.org("science"), ch.org("arts")], "d": deadline.to_rfc3339() }),
            ch.token("lead"),
        )
        .await;
    let id = created["data"]["createInquiry"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let published = app
        .graphql(
            "mutation($id: ID!) { publishInquiry(id: $id) { targets { id community { slug } } } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await;
    let arts_slot = published["data"]["publishInquiry"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["community"]["slug"] == "arts")
        .unwrap()["id"]
        .clone();
    assert_ok(&app.graphql("mutation($t: ID!) { answerInquiry(input: { targetId: $t, body: \"done\", expectedVersion: 0 }) { id } }", json!({ "t": arts_slot }), ch.token("arts.mentor")).await);
    app.drain_mail().await;
    let before = sink.messages().len();

    let lead = chrono::Duration::days(3);
    assert_eq!(
        scheduler::queue_reminders(&app.state.changes, Utc::now(), lead)
            .await
            .unwrap(),
        0,
        "too early"
    );
    let near = deadline - chrono::Duration::days(2);
    // Two instances (or a restart) at the same moment queue each reminder once.
    let (a, b) = tokio::join!(
        scheduler::queue_reminders(&app.state.changes, near, lead),
        scheduler::queue_reminders(&app.state.changes, near, lead)
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        2,
        "one per pending community's mentor"
    );
    assert_eq!(
        scheduler::queue_reminders(&app.state.changes, near + chrono::Duration::hours(1), lead)
            .await
            .unwrap(),
        0
    );
    app.drain_mail().await;
    let reminded = sink.messages()[before..].to_vec();
    let recipients = recipients_of(&reminded);
    assert_eq!(
        recipients,
        ["science.comentor@uni.test", "science.mentor@uni.test"],
        "arts answered: no reminder"
    );
    let message = reminded[0].parsed();
    assert!(
        message
            .subject()
            .unwrap()
            .starts_with("Re: Deadline – Digimentor-kysely"),
        "{:?}",
        message.subject()
    );
    assert_eq!(
        message.references().as_text(),
        Some(first_message_id(&sink.messages(), &to_of(&reminded[0])).as_str()),
        "the reminder threads under inquiry {id}'s invitation"
    );

    // On the deadline day (in Helsinki) the second reminder goes out, once.
    let day = deadline - chrono::Duration::minutes(30);
    assert_eq!(
        scheduler::queue_reminders(&app.state.changes, day, lead)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        scheduler::queue_reminders(&app.state.changes, day, lead)
            .await
            .unwrap(),
        0
    );
    app.drain_mail().await;
    let all = sink.messages();
    let last = all.last().unwrap().parsed();
    assert_eq!(last.subject(), Some("Re: Deadline – Digimentor-kysely"));
    assert!(
        last.body_text(0).unwrap().contains("Määräaika on tänään."),
        "{:?}",
        last.body_text(0)
    );
    // Outlook's thread headers: the subject without `Re:`, and an index under the thread.
    let header = |name: &str| {
        // Decoded as a mail client decodes it (RFC 2047), through a Subject line.
        let raw = last.header_raw(name).unwrap_or_default().trim().to_owned();
        let probe = format!("Subject: {raw}\r\n\r\n");
        mail_parser::MessageParser::default()
            .parse(probe.as_bytes())
            .and_then(|m| m.subject().map(str::to_owned))
            .unwrap_or_default()
    };
    assert_eq!(header("Thread-Topic"), "Deadline – Digimentor-kysely");
    assert!(!header("Thread-Index").is_empty());
    // After the deadline nothing more.
    assert_eq!(
        scheduler::queue_reminders(
            &app.state.changes,
            deadline + chrono::Duration::hours(1),
            lead
        )
        .await
        .unwrap(),
        0
    );
}

#[tokio::test]
async fn markdown_from_users_is_sanitized_in_the_html_part() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    let body = "Please **answer**.\n\n<script>alert('x')</script>\n\n![pixel](https://tracker.example/p.gif)\n\n<img src=\"https://tracker.example/q.gif\">\n\n[guide](https://guide.example)";
    let created = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!, $b: String!) { createInquiry(input: { organizationId: $o, title: \"Sanitize\", body: $b, communityIds: $c }) { id } }",
            json!({ "o": ch.org("management"), "c": [ch.org("arts")], "b": body }),
            ch.token("lead"),
        )
        .await;
    let id = created["data"]["createInquiry"]["id"].as_str().unwrap();
    app.graphql(
        "mutation($id: ID!) { publishInquiry(id: $id) { id } }",
        json!({ "id": id }),
        ch.token("lead"),
    )
    .await;
    app.drain_mail().await;
    let messages = sink.messages();
    let message = messages[0].parsed();
    let html = message.body_html(0).unwrap();
    assert!(html.contains("<strong>answer</strong>"));
    assert!(html.contains("href=\"https://guide.example\""));
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("tracker.example/q.gif"), "{html}");
    // The text part keeps the Markdown source readable.
    assert!(message.body_text(0).unwrap().contains("Please **answer**."));
}

/// The demo network's emails, as its people receive them: every kind the demo's changes call
/// for renders in the recipient's language, and each links to its own kind of page (a meeting
/// invitation to its meeting, never to an inquiry) and threads under its own root.
#[tokio::test]
async fn the_demo_networks_emails_link_and_thread_by_their_own_kind() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    digimentor::demo::load(&app.state.changes).await.unwrap();
    app.drain_mail().await;
    let messages = sink.messages();
    let queued = delivery::Entity::find().count(&app.state.db).await.unwrap();
    assert!(
        queued > 50,
        "the demo's changes plan their emails: {queued}"
    );
    assert_eq!(
        messages.len() as u64,
        queued,
        "every planned email was sent"
    );
    let mut kinds = std::collections::BTreeSet::new();
    for message in &messages {
        let parsed = message.parsed();
        let text = parsed.body_text(0).unwrap().to_string();
        let html = parsed.body_html(0).unwrap().to_string();
        assert!(!text.contains("{{") && !html.contains("{{"), "{text}");
        assert!(!html.contains("&amp;#x2f;"), "escaped twice: {html}");
        // What the email is about, from its row in the outbox.
        let row = delivery::Entity::find()
            .filter(delivery::Column::MessageId.eq(format!("<{}>", parsed.message_id().unwrap())))
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        let template = digimentor::notify::Template::from_name(&row.kind).unwrap();
        let Some(root) = template.thread_prefix() else {
            // The network's agenda items stand alone: to the chair (the proposals page) or to
            // the proposer and supporters (the meeting it was placed on).
            assert_eq!(template, digimentor::notify::Template::AgendaItem);
            assert!(row.thread_id.is_none());
            assert!(
                text.contains("http://digimentor.test/agenda")
                    || text.contains("http://digimentor.test/meetings/"),
                "{text}"
            );
            kinds.insert("agenda");
            continue;
        };
        let segment = format!("/{}/", template.link_segment().unwrap());
        kinds.insert(root);
        let id = row.thread_id.unwrap().to_string();
        assert!(
            text.contains(&format!("http://digimentor.test{segment}{id}")),
            "{root} email without its own link: {text}"
        );
        if root == "meeting" {
            assert!(!text.contains("/inquiries/"), "{text}");
        }
    }
    assert_eq!(
        kinds,
        std::collections::BTreeSet::from([
            "agenda",
            "announcement",
            "inquiry",
            "meeting",
            "project",
            "question",
            "training"
        ])
    );
    // Who acted is named in From, at the service's own address.
    let senders: std::collections::BTreeSet<String> = messages
        .iter()
        .map(|m| {
            let parsed = m.parsed();
            let from = parsed.from().unwrap().first().unwrap();
            assert_eq!(from.address(), Some("digimentor@digimentor.test"));
            from.name().unwrap_or_default().to_owned()
        })
        .collect();
    assert!(
        senders.contains("Kari Hiltunen via Digimentor"),
        "{senders:?}"
    );
    assert!(
        senders.contains("Digimentor"),
        "meeting invitations: {senders:?}"
    );
}

/// An inquiry published with its deadline already inside the reminder lead time: its invitation
/// says the deadline, so no "deadline near" reminder follows within the hour; after it, one does.
#[tokio::test]
async fn no_reminder_follows_the_invitation_within_the_hour() {
    let app = spawn_app_with(|_| {}).await;
    let ch = app.seed_channel().await;
    let deadline = Utc::now() + chrono::Duration::days(2);
    let created = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!, $d: DateTime!) { createInquiry(input: { organizationId: $o, title: \"Soon\", body: \"b\", communityIds: $c, deadline: $d }) { id } }",
            json!({ "o": ch.org("management"), "c": [ch.org("science")], "d": deadline.to_rfc3339() }),
            ch.token("lead"),
        )
        .await;
    let id = created["data"]["createInquiry"]["id"].clone();
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { publishInquiry(id: $id) { id } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await,
    );
    let lead = chrono::Duration::days(3);
    for minutes in [0, 30, 59] {
        let at = Utc::now() + chrono::Duration::minutes(minutes);
        assert_eq!(
            scheduler::queue_reminders(&app.state.changes, at, lead)
                .await
                .unwrap(),
            0,
            "{minutes} minutes after the invitation"
        );
    }
    let later = Utc::now() + chrono::Duration::minutes(61);
    assert!(
        scheduler::queue_reminders(&app.state.changes, later, lead)
            .await
            .unwrap()
            > 0,
        "after the hour the reminder goes out"
    );
}

/// Closing a question tells its asker, in their thread: who closed it, why, and where the
/// earlier question with the answer is.
#[tokio::test]
async fn closing_a_question_tells_the_asker_why_and_where_the_answer_is() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    let ask = "mutation($c: ID!, $t: String!) { askQuestion(input: { communityId: $c, title: $t, body: \"How?\" }) { id } }";
    let mut ids = Vec::new();
    for title in ["Oral exams online", "Oral exams on Zoom"] {
        let body = app
            .graphql(
                ask,
                json!({ "c": ch.org("science"), "t": title }),
                ch.token("science.staff"),
            )
            .await;
        ids.push(
            body["data"]["askQuestion"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    app.drain_mail().await;
    let before = sink.messages().len();
    assert_ok(
        &app.graphql(
            "mutation($q: ID!, $d: ID) { closeQuestion(input: { questionId: $q, reason: \"Asked before\", duplicateOf: $d }) { status } }",
            json!({ "q": ids[1], "d": ids[0] }),
            ch.token("science.mentor"),
        )
        .await,
    );
    app.drain_mail().await;
    let messages = sink.messages()[before..].to_vec();
    assert_eq!(
        messages.iter().map(to_of).collect::<Vec<_>>(),
        ["science.staff@uni.test"],
        "the asker, once; the mentor who closed it is not told of their own act"
    );
    let message = messages[0].parsed();
    let subject = message.subject().unwrap();
    assert!(
        subject.starts_with("Re: Oral exams on Zoom – Digimentor"),
        "{subject}"
    );
    let text = message.body_text(0).unwrap();
    assert!(text.contains("Asked before"), "{text}");
    assert!(
        text.contains(&format!("http://digimentor.test/questions/{}", ids[0])),
        "the duplicate's link: {text}"
    );
    assert!(
        message.body_html(0).unwrap().contains(&format!(
            "href=\"http://digimentor.test/questions/{}\"",
            ids[0]
        )),
        "a link in the HTML too"
    );
    assert!(
        message.references().is_empty(),
        "the asker's first email about question {}",
        ids[1]
    );
    let from = message.from().unwrap().first().unwrap();
    assert!(
        from.name().unwrap().ends_with(" via Digimentor"),
        "{from:?}"
    );
}

#[tokio::test]
async fn closing_an_inquiry_tells_the_mentors_still_pending_and_sends_the_author_a_summary() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    let (id, slots) = app
        .published_inquiry(&ch, "Spring plans", &["science", "arts", "medicine"])
        .await;
    for (slot, mentor, mutation) in [
        (
            "science",
            "science.mentor",
            "answerInquiry(input: { targetId: $t, body: \"Two workshops.\", expectedVersion: 0 })",
        ),
        (
            "arts",
            "arts.mentor",
            "declineInquiry(input: { targetId: $t, reason: \"No plans yet\", expectedVersion: 0 })",
        ),
    ] {
        assert_ok(
            &app.graphql(
                &format!("mutation($t: ID!) {{ {mutation} {{ status }} }}"),
                json!({ "t": slots[slot] }),
                ch.token(mentor),
            )
            .await,
        );
    }
    app.drain_mail().await;
    let before = sink.messages().len();
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { closeInquiry(id: $id) { status } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await,
    );
    app.drain_mail().await;
    let all = sink.messages();
    let sent = all[before..].to_vec();
    let recipients = recipients_of(&sent);
    assert_eq!(
        recipients,
        ["lead@uni.test", "medicine.mentor@uni.test"],
        "the pending community's mentor, and the author's summary"
    );
    let closed = for_recipient(&sent, "medicine.mentor@uni.test")[0].parsed();
    let text = closed.body_text(0).unwrap().to_string();
    assert!(
        text.contains("lead (management fi) sulki kyselyn"),
        "{text}"
    );
    assert!(text.contains(&format!("http://digimentor.test/inquiries/{id}")));
    assert_eq!(
        closed.subject(),
        Some("Re: Spring plans – Digimentor-kysely")
    );
    assert!(
        closed
            .from()
            .unwrap()
            .first()
            .unwrap()
            .name()
            .unwrap()
            .starts_with("lead via"),
        "from the person who closed it"
    );

    let summary = for_recipient(&sent, "lead@uni.test")[0].parsed();
    let text = summary.body_text(0).unwrap().to_string();
    for part in [
        "Vastanneet: **1 / 3**",
        "Kieltäytyneet: **1**",
        "Vastaamatta: **1**",
        "### science fi",
        "Two workshops.",
        "Syy: No plans yet",
        "### medicine fi",
        "*Ei vastausta.*",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    let html = summary.body_html(0).unwrap().to_string();
    assert!(html.contains("<h3>arts fi</h3>"), "{html}");
    // The summary threads under the first email of the inquiry the lead got.
    let root = first_message_id(&all, "lead@uni.test");
    assert_eq!(
        summary
            .references()
            .as_text_list()
            .unwrap_or_default()
            .first()
            .map(|r| r.to_string()),
        Some(root)
    );
}

#[tokio::test]
async fn a_changed_password_is_confirmed_by_a_security_notice() {
    let sink = SmtpSink::start().await;
    let app = app_with_sink(&sink).await;
    let ch = app.seed_channel().await;
    set_locale(&app, "arts.staff@uni.test", entity::user::Locale::Sv).await;
    let changed = app
        .graphql(
            &format!(
                "mutation {{ changePassword(currentPassword: \"{}\", newPassword: \"a-new-long-password-9\") {{ token }} }}",
                crate::helpers::PASSWORD
            ),
            json!({}),
            ch.token("arts.staff"),
        )
        .await;
    assert_ok(&changed);
    app.drain_mail().await;
    let sent = sink.messages();
    assert_eq!(
        sent.iter().map(to_of).collect::<Vec<_>>(),
        ["arts.staff@uni.test"],
        "the owner is told, though it was their own action"
    );
    let notice = sent[0].parsed();
    assert_eq!(
        notice.subject(),
        Some("Ditt lösenord har bytts – Digimentor")
    );
    let text = notice.body_text(0).unwrap().to_string();
    assert!(text.contains("(arts.staff@uni.test)"), "{text}");
    assert!(
        text.contains("Logga in: http://digimentor.test/sign-in"),
        "{text}"
    );
    assert!(text.contains("det gäller ditt Digimentor-konto"), "{text}");
    assert!(notice.references().is_empty());
}

#[tokio::test]
async fn emails_go_encrypted_and_signed_in_by_starttls_or_tls_to_a_server_of_an_internal_ca() {
    use digimentor::config::{MailTransport, SmtpServer};
    let dir = tempfile::tempdir().unwrap();
    crate::helpers::test_ca(dir.path());
    let ca = dir.path().join("ca.pem");
    // The password holds characters that URLs encode.
    let password = "s3cret:/@ ä";
    let encoded = "s3cret%3A%2F%40%20%C3%A4";
    let url_for = |implicit: bool, port: u16| match implicit {
        true => format!("smtps://mailer:{encoded}@localhost:{port}"),
        false => format!("smtp://mailer:{encoded}@localhost:{port}?tls=required"),
    };
    for implicit in [false, true] {
        let sink = SmtpSink::start_secure(dir.path(), implicit, "mailer", password).await;
        let url = url_for(implicit, sink.address.port());
        let server = SmtpServer::parse(&url, Some(ca.clone())).unwrap();
        let app = spawn_app_with(move |c| c.mail = MailTransport::Smtp(server)).await;
        let ch = app.seed_channel().await;
        app.published_inquiry(&ch, "Encrypted", &["science", "arts"])
            .await;
        app.drain_mail().await;
        let messages = sink.messages();
        assert_eq!(
            recipients_of(&messages),
            [
                "arts.mentor@uni.test",
                "science.comentor@uni.test",
                "science.mentor@uni.test"
            ],
            "implicit TLS: {implicit}"
        );
        assert!(
            messages
                .iter()
                .all(|m| m.tls && m.user.as_deref() == Some("mailer"))
        );
        // Only the greeting's EHLO and STARTTLS ever go unencrypted (nothing with TLS from
        // the first byte).
        let commands = sink.commands();
        let clear: Vec<&String> = commands
            .iter()
            .filter(|(tls, _)| !tls)
            .map(|(_, c)| c)
            .collect();
        if implicit {
            assert!(clear.is_empty(), "{clear:?}");
        } else {
            assert!(
                clear
                    .iter()
                    .all(|c| c.starts_with("EHLO") || *c == "STARTTLS"),
                "{clear:?}"
            );
        }
        // The connections stay open between messages: the next one signs in no more.
        let sign_ins = || {
            sink.commands()
                .iter()
                .filter(|(_, c)| c.starts_with("AUTH"))
                .count()
        };
        let before = sign_ins();
        app.published_inquiry(&ch, "Again", &["arts"]).await;
        app.drain_mail().await;
        assert_eq!(sink.messages().len(), 4);
        assert_eq!(sign_ins(), before, "a connection was opened again");
    }
    // Without the internal CA the server is not trusted: nothing is said beyond the greeting,
    // and the emails wait for a retry.
    for implicit in [false, true] {
        let sink = SmtpSink::start_secure(dir.path(), implicit, "mailer", password).await;
        let url = url_for(implicit, sink.address.port());
        let server = SmtpServer::parse(&url, None).unwrap();
        let app = spawn_app_with(move |c| c.mail = MailTransport::Smtp(server)).await;
        let ch = app.seed_channel().await;
        app.published_inquiry(&ch, "Untrusted", &["arts"]).await;
        assert_eq!(app.worker.try_execute_step().await.unwrap().retrying, 1);
        let d = delivery::Entity::find()
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.status, DeliveryStatus::Pending);
        let error = d.last_error.unwrap();
        assert!(error.to_lowercase().contains("certificate"), "{error}");
        assert!(sink.messages().is_empty());
        assert!(
            sink.commands()
                .iter()
                .all(|(_, c)| c.starts_with("EHLO") || c == "STARTTLS"),
            "{:?}",
            sink.commands()
        );
    }
    // A server that offers no STARTTLS when it is required: nothing goes in the clear.
    let plain = SmtpSink::start().await;
    let url = format!(
        "smtp://mailer:{encoded}@localhost:{}?tls=required",
        plain.address.port()
    );
    let server = SmtpServer::parse(&url, Some(ca)).unwrap();
    let app = spawn_app_with(move |c| c.mail = MailTransport::Smtp(server)).await;
    let ch = app.seed_channel().await;
    app.published_inquiry(&ch, "No STARTTLS", &["arts"]).await;
    assert_eq!(app.worker.try_execute_step().await.unwrap().retrying, 1);
    assert!(plain.messages().is_empty());
}

#[tokio::test]
async fn a_claimed_batch_is_marked_sent_in_one_statement() {
    let app = spawn_app_with(|_| {}).await;
    let ch = app.seed_channel().await;
    app.published_inquiry(&ch, "Batch", &["science", "arts", "medicine"])
        .await;
    let now = Utc::now();
    let claimed = outbox::claim(&app.state.db, 100, Duration::from_secs(60), now)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4);
    let ids: Vec<uuid::Uuid> = claimed.iter().map(|d| d.id).collect();
    let before = app.quiet_statements().await;
    outbox::mark_sent_many(&app.state.db, &ids, now)
        .await
        .unwrap();
    assert_eq!(app.state.statements.get() - before, 1);
    outbox::mark_sent_many(&app.state.db, &[], now)
        .await
        .unwrap();
    assert_eq!(app.state.statements.get() - before, 1, "nothing to mark");
    let rows = delivery::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert_eq!(row.status, DeliveryStatus::Sent);
        assert!(row.sent_at.is_some() && row.claimed_until.is_none());
    }
}

/// An app with one published inquiry: its first email and that email's thread.
async fn first_email_of_a_thread() -> (TestApp, delivery::Model, uuid::Uuid) {
    let app = spawn_app_with(|_| {}).await;
    let ch = app.seed_channel().await;
    app.published_inquiry(&ch, "Thread", &["arts"]).await;
    let first = delivery::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let thread = first.thread_id.expect("an inquiry's emails are a thread");
    (app, first, thread)
}

/// A copy of `email` as a row of its own: a new id, the key `{tag}-test:{n}` and the
/// Message-ID `<{n}@{tag}.test>`.
fn copy_of(email: &delivery::Model, tag: &str, n: impl std::fmt::Display) -> delivery::ActiveModel {
    use sea_orm::IntoActiveModel;
    let mut row = email.clone().into_active_model();
    row.id = Set(uuid::Uuid::now_v7());
    row.dedupe_key = Set(format!("{tag}-test:{n}"));
    row.message_id = Set(format!("<{n}@{tag}.test>"));
    row
}

#[tokio::test]
async fn an_emails_place_in_its_thread_is_found_in_one_statement() {
    use sea_orm::ActiveModelTrait;
    let (app, first, thread) = first_email_of_a_thread().await;
    // Three later emails to the same person in the thread; the middle one never arrived.
    let mut later = Vec::new();
    for (n, status) in [
        (1, DeliveryStatus::Sent),
        (2, DeliveryStatus::Dead),
        (3, DeliveryStatus::Pending),
    ] {
        let mut row = copy_of(&first, "thread", n);
        row.status = Set(status);
        later.push(row.insert(&app.state.db).await.unwrap());
    }
    let place = |delivery: delivery::Model| {
        let app = &app;
        async move {
            let before = app.quiet_statements().await;
            let earlier = outbox::earlier_in_thread(&app.state.db, thread, &delivery)
                .await
                .unwrap();
            assert_eq!(app.state.statements.get() - before, 1);
            (earlier.root, earlier.last)
        }
    };
    assert_eq!(place(first.clone()).await, (None, None));
    assert_eq!(
        place(later[0].clone()).await,
        (
            Some(first.message_id.clone()),
            Some(first.message_id.clone())
        )
    );
    assert_eq!(
        place(later[2].clone()).await,
        (
            Some(first.message_id.clone()),
            Some("<1@thread.test>".to_owned())
        )
    );
}

#[tokio::test]
async fn an_emails_place_in_its_thread_is_found_by_its_index_among_many_emails() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let (app, first, thread) = first_email_of_a_thread().await;
    // One person with 3,000 emails in 600 threads: a plan that walks the person's emails (the
    // recipient index) and sorts them is what the thread index is there to avoid.
    let rows: Vec<delivery::ActiveModel> = (0..3000)
        .map(|n| {
            let mut row = copy_of(&first, "plan", n);
            row.thread_id = Set(Some(if n % 600 == 0 {
                thread
            } else {
                uuid::Uuid::from_u128(n % 600)
            }));
            row
        })
        .collect();
    for chunk in rows.chunks(500) {
        delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.state.db)
            .await
            .unwrap();
    }
    let db = &app.state.db;
    let backend = db.get_database_backend();
    db.execute_unprepared("ANALYZE").await.unwrap();
    let statement = outbox::earlier_in_thread_statement(
        backend,
        thread,
        first.recipient_id,
        uuid::Uuid::now_v7(),
    );
    let (explain, column) = match backend {
        DbBackend::Postgres => ("EXPLAIN", "QUERY PLAN"),
        _ => ("EXPLAIN QUERY PLAN", "detail"),
    };
    let plan: Vec<String> = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!("{explain} {}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", column).unwrap())
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("ix_delivery_thread_recipient"), "{plan}");
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "{plan}"
    );
    // On PostgreSQL a digest's payload (tens of kilobytes of JSON) is compressed with LZ4.
    if backend == DbBackend::Postgres {
        let compression: String = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT attcompression::text AS c FROM pg_attribute \
                 WHERE attrelid = 'delivery'::regclass AND attname = 'payload'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "c")
            .unwrap();
        assert_eq!(compression, "l");
    }
}

#[tokio::test]
async fn an_idle_connection_is_checked_before_reuse_and_replaced_when_the_server_dropped_it() {
    use digimentor::notify::mailer::Mailer;
    let mut sink = SmtpSink::start().await;
    let mailer = Mailer::new(
        &crate::helpers::smtp(&sink.url()),
        1,
        Duration::from_secs(10),
    )
    .unwrap();
    let message = |n: u32| {
        lettre::Message::builder()
            .from("digimentor@uni.test".parse().unwrap())
            .to(format!("reader{n}@uni.test").parse().unwrap())
            .subject(format!("Message {n}"))
            .body(format!("Body {n}"))
            .unwrap()
    };
    let count = |sink: &SmtpSink, verb: &str| {
        sink.commands()
            .iter()
            .filter(|(_, c)| c.to_ascii_uppercase().starts_with(verb))
            .count()
    };
    mailer.send(&message(1), "1").await.unwrap();
    assert_eq!(count(&sink, "EHLO"), 1);
    // The server drops the connection while it idles; after the check interval the mailer
    // finds out with NOOP and opens a new one instead of losing the message.
    sink.go_down();
    // (The aborted listener lets go of its address a moment later.)
    tokio::time::sleep(Duration::from_millis(200)).await;
    sink.come_up().await;
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    mailer.send(&message(2), "2").await.unwrap();
    assert_eq!(count(&sink, "EHLO"), 2, "{:?}", sink.commands());
    // Right after a message the connection is used again without a check.
    let noops = count(&sink, "NOOP");
    mailer.send(&message(3), "3").await.unwrap();
    assert_eq!(count(&sink, "NOOP"), noops);
    // Idle past the interval, a live connection answers NOOP and carries the next message.
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    mailer.send(&message(4), "4").await.unwrap();
    assert_eq!(count(&sink, "NOOP"), noops + 1, "{:?}", sink.commands());
    assert_eq!(count(&sink, "EHLO"), 2, "{:?}", sink.commands());
    let received: Vec<String> = sink
        .wait_for(4)
        .await
        .iter()
        .map(|m| m.to.join(","))
        .collect();
    assert_eq!(
        received,
        [
            "<reader1@uni.test>",
            "<reader2@uni.test>",
            "<reader3@uni.test>",
            "<reader4@uni.test>"
        ]
    );
}
