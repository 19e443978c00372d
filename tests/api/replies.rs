//! Answers by replying to an email, and bounces: a real SMTP client (lettre) hands fixture
//! replies, written the way Outlook, Gmail, Apple Mail and Thunderbird quote in Finnish,
//! Swedish and English, to the service's inbound listener; every outcome is checked through
//! the API and in the emails the service sends back through a real SMTP conversation.

use std::time::Duration;

use entity::user::Locale;
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::email::set_locale;
use crate::helpers::{Channel, TestApp, assert_ok, spawn_app_with};
use crate::smtp::{Received, SmtpSink};

pub(crate) const REPLY_DOMAIN: &str = "reply.digimentor.test";

pub(crate) async fn app_taking_replies(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |c| {
        c.mail = crate::helpers::smtp(&url);
        c.reply_domain = Some(REPLY_DOMAIN.into());
        c.inbound_smtp_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await
}

/// A fixture reply with its placeholders filled, in CRLF lines.
pub(crate) fn fixture(name: &str, from: &str, to: &str, subject: &str) -> String {
    let path = format!(
        "{}/tests/api/fixtures/replies/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .replace("{from}", from)
        .replace("{to}", to)
        .replace("{subject}", subject)
        .replace("{message_id}", &uuid::Uuid::now_v7().to_string())
        .replace('\n', "\r\n")
}

/// Sends a raw message to the inbound listener with a real SMTP client.
pub(crate) async fn send(
    app: &TestApp,
    envelope_from: &str,
    to: &str,
    raw: &str,
) -> Result<(), lettre::transport::smtp::Error> {
    let listener = app.inbound.expect("the inbound listener is configured");
    let transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(listener.ip().to_string())
            .port(listener.port())
            .timeout(Some(Duration::from_secs(30)))
            .build();
    let from = (!envelope_from.is_empty()).then(|| envelope_from.parse().unwrap());
    let envelope = Envelope::new(from, vec![to.parse().unwrap()]).unwrap();
    transport
        .send_raw(&envelope, raw.as_bytes())
        .await
        .map(|_| ())
}

/// Sends fixture `file` from `from` to `to` as a reply to an email with `subject`; the
/// listener must take it.
pub(crate) async fn reply(app: &TestApp, file: &str, from: &str, to: &str, subject: &str) {
    let raw = fixture(file, from, to, subject);
    send(app, from, to, &raw)
        .await
        .unwrap_or_else(|e| panic!("{file} from {from}: {e}"));
}

fn to_of(m: &Received) -> String {
    m.to[0].trim_matches(|c| c == '<' || c == '>').to_owned()
}

/// The messages of `kind` (by the first words of the subject's tail) sent to `email`.
fn sent_to<'a>(messages: &'a [Received], email: &str) -> Vec<&'a Received> {
    messages.iter().filter(|m| to_of(m) == email).collect()
}

pub(crate) fn reply_address(message: &Received) -> String {
    let parsed = message.parsed();
    let addresses: Vec<String> = parsed
        .reply_to()
        .map(|a| {
            a.iter()
                .filter_map(|a| a.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(addresses.len(), 1, "one Reply-To: {addresses:?}");
    addresses[0].clone()
}

pub(crate) fn subject(message: &Received) -> String {
    message.parsed().subject().unwrap_or_default().to_owned()
}

fn text(message: &Received) -> String {
    message
        .parsed()
        .body_text(0)
        .unwrap_or_default()
        .into_owned()
}

const TARGETS: &str = "query($id: ID!) { inquiry(id: $id) { status targets { id status answer answeredBy { displayName } community { slug } messages { body author { displayName } } } } }";

pub(crate) async fn targets(app: &TestApp, channel: &Channel, inquiry: &str) -> Vec<Value> {
    let body = app
        .graphql(TARGETS, json!({ "id": inquiry }), channel.token("lead"))
        .await;
    assert_ok(&body);
    body["data"]["inquiry"]["targets"]
        .as_array()
        .unwrap()
        .clone()
}

pub(crate) fn target<'a>(targets: &'a [Value], slug: &str) -> &'a Value {
    targets
        .iter()
        .find(|t| t["community"]["slug"] == slug)
        .unwrap()
}

#[tokio::test]
async fn mentors_answer_an_inquiry_by_replying_from_any_client_in_any_language() {
    let sink = SmtpSink::start().await;
    let app = app_taking_replies(&sink).await;
    let channel = app.seed_channel().await;
    set_locale(&app, "arts.mentor@uni.test", Locale::Sv).await;
    set_locale(&app, "medicine.mentor@uni.test", Locale::En).await;
    let (inquiry, _) = app
        .published_inquiry(&channel, "Training needs", &["science", "arts", "medicine"])
        .await;
    app.drain_mail().await;
    let invitations = sink.messages();

    let cases = [
        (
            "science.mentor",
            "outlook_fi.eml",
            "science",
            "Hei,\n\ntiedekuntamme tarvitsee koulutusta Moodlen tenttityökaluista.\n\nTerveisin\nMaija",
            "Voit vastata myös suoraan tähän sähköpostiin",
        ),
        (
            "arts.mentor",
            "gmail_sv_html_only.eml",
            "arts",
            "Vi behöver stöd med digitala tentamina.\n\nHälsningar, Anna",
            "Du kan också svara direkt på det här mejlet",
        ),
        (
            "medicine.mentor",
            "apple_en.eml",
            "medicine",
            "We would like a workshop on accessible slides.",
            "You can also reply to this email",
        ),
    ];
    for (mentor, file, slug, expected, hint) in cases {
        let email = format!("{mentor}@uni.test");
        let mine = sent_to(&invitations, &email);
        assert_eq!(mine.len(), 1, "{mentor}: one invitation");
        let invitation = mine[0];
        let address = reply_address(invitation);
        assert!(
            address.starts_with("reply+") && address.ends_with(&format!("@{REPLY_DOMAIN}")),
            "{address}"
        );
        assert!(address.split('@').next().unwrap().len() <= 64);
        assert!(
            invitation.from.contains("bounce+") && invitation.from.contains(REPLY_DOMAIN),
            "the envelope sender takes bounces: {}",
            invitation.from
        );
        assert!(
            text(invitation).contains(hint),
            "{mentor}: {}",
            text(invitation)
        );
        let raw = fixture(file, &email, &address, &subject(invitation));
        send(&app, &email, &address, &raw).await.unwrap();
        let now = targets(&app, &channel, &inquiry).await;
        let slot = target(&now, slug);
        assert_eq!(slot["status"], "ANSWERED", "{mentor}: {slot}");
        assert_eq!(slot["answer"], expected, "{mentor}");
        assert_eq!(slot["answeredBy"]["displayName"], mentor.replace('.', " "));
    }

    // Each mentor is told what was recorded, in their language; the lead hears of each answer
    // as from any other answer.
    app.drain_mail().await;
    let all = sink.messages();
    for (mentor, recorded) in [
        ("science.mentor", "vastauksesi tallentui"),
        ("arts.mentor", "ditt svar har sparats"),
        ("medicine.mentor", "your reply was recorded"),
    ] {
        let receipts: Vec<_> = sent_to(&all, &format!("{mentor}@uni.test"))
            .into_iter()
            .filter(|m| subject(m).contains(recorded))
            .collect();
        assert_eq!(receipts.len(), 1, "{mentor}");
        assert!(subject(receipts[0]).starts_with("Training needs"));
    }
    let lead = sent_to(&all, "lead@uni.test");
    assert_eq!(lead.len(), 3, "one answer email per community");
    assert!(
        lead.iter()
            .any(|m| text(m).contains("We would like a workshop on accessible slides."))
    );
}

#[tokio::test]
async fn replies_continue_the_conversation_once_and_thread_under_the_first_email() {
    let sink = SmtpSink::start().await;
    let app = app_taking_replies(&sink).await;
    let channel = app.seed_channel().await;
    let (inquiry, slots) = app
        .published_inquiry(&channel, "Exam rooms", &["science"])
        .await;
    let answered = app
        .graphql(
            "mutation($t: ID!) { answerInquiry(input: { targetId: $t, body: \"Two rooms.\", expectedVersion: 0 }) { status } }",
            json!({ "t": slots["science"] }),
            channel.token("science.mentor"),
        )
        .await;
    assert_ok(&answered);
    app.drain_mail().await;
    let first = sink.messages();
    let to_lead = sent_to(&first, "lead@uni.test");
    assert_eq!(to_lead.len(), 1);
    let address = reply_address(to_lead[0]);

    // The lead replies (Thunderbird, Finnish); the mail server hands the message over twice.
    let raw = fixture(
        "thunderbird_fi.eml",
        "lead@uni.test",
        &address,
        &subject(to_lead[0]),
    );
    for _ in 0..2 {
        send(&app, "lead@uni.test", &address, &raw).await.unwrap();
    }
    let now = targets(&app, &channel, &inquiry).await;
    let messages = target(&now, "science")["messages"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(messages.len(), 1, "applied once: {messages:?}");
    assert_eq!(messages[0]["body"], "Kiitos, katsomme asiaa ensi viikolla.");
    assert_eq!(messages[0]["author"]["displayName"], "lead");

    // The co-mentor, who got the invitation, gets the message threaded under it.
    app.drain_mail().await;
    let all = sink.messages();
    let mut comentor = sent_to(&all, "science.comentor@uni.test");
    // In the order they were queued (emails sent in one batch arrive in any order).
    comentor.sort_by_key(|m| m.parsed().message_id().unwrap().to_owned());
    assert_eq!(
        comentor.len(),
        3,
        "the invitation, the co-mentor's answer, the message"
    );
    let invitation = comentor[0].parsed();
    let answer = comentor[1].parsed();
    let message = comentor[2].parsed();
    let root = invitation.message_id().unwrap().to_owned();
    let previous = answer.message_id().unwrap().to_owned();
    assert!(
        invitation.references().is_empty(),
        "the first email has no root"
    );
    assert_eq!(
        answer.references().as_text_list().unwrap_or_default(),
        vec![root.as_str()]
    );
    assert_eq!(
        message.in_reply_to().as_text_list().unwrap_or_default(),
        vec![previous.as_str()],
        "in reply to the latest"
    );
    assert_eq!(
        message.references().as_text_list().unwrap_or_default(),
        vec![root.as_str(), previous.as_str()],
        "the root first"
    );
    assert_eq!(
        message.subject().unwrap(),
        format!("Re: {}", invitation.subject().unwrap()),
        "one subject along the thread"
    );
    let topic =
        |m: &mail_parser::Message<'_>| m.header_raw("Thread-Topic").map(|t| t.trim().to_owned());
    assert_eq!(topic(&invitation), topic(&message));
    assert!(topic(&invitation).is_some());
}

#[tokio::test]
async fn forged_senders_auto_replies_bad_tokens_and_closed_inquiries_apply_nothing() {
    let sink = SmtpSink::start().await;
    let app = app_taking_replies(&sink).await;
    let channel = app.seed_channel().await;
    set_locale(&app, "medicine.mentor@uni.test", Locale::En).await;
    let (inquiry, _) = app
        .published_inquiry(&channel, "Forged or not", &["arts", "medicine"])
        .await;
    app.drain_mail().await;
    let invitations = sink.messages();
    let arts = reply_address(sent_to(&invitations, "arts.mentor@uni.test")[0]);
    let medicine_email = sent_to(&invitations, "medicine.mentor@uni.test")[0];
    let medicine = reply_address(medicine_email);

    // Someone else replies with the arts mentor's address (a forwarded email, a forger), twice.
    for _ in 0..2 {
        reply(
            &app,
            "apple_en.eml",
            "lead@uni.test",
            &arts,
            "Forged or not",
        )
        .await;
    }
    // A mentor's out-of-office answers the invitation.
    reply(
        &app,
        "auto_reply_fi.eml",
        "medicine.mentor@uni.test",
        &medicine,
        "Forged or not",
    )
    .await;
    // A token changed by one character, and one for another domain, are refused at RCPT.
    let (local, domain) = medicine.split_once('@').unwrap();
    let last = local.chars().last().unwrap();
    let flipped = format!(
        "{}{}@{domain}",
        &local[..local.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let raw = fixture("apple_en.eml", "medicine.mentor@uni.test", &flipped, "x");
    let refused = send(&app, "medicine.mentor@uni.test", &flipped, &raw).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.is_permanent()),
        "{refused:?}"
    );
    let elsewhere = format!("{local}@other.test");
    assert!(
        send(&app, "medicine.mentor@uni.test", &elsewhere, &raw)
            .await
            .is_err()
    );

    let now = targets(&app, &channel, &inquiry).await;
    assert_eq!(target(&now, "arts")["status"], "PENDING");
    assert_eq!(target(&now, "medicine")["status"], "PENDING");
    app.drain_mail().await;
    let after = sink.messages();
    let to_forger = sent_to(&after, "lead@uni.test");
    assert_eq!(to_forger.len(), 1, "one explanation an hour");
    assert!(subject(to_forger[0]).contains("vastaustasi ei tallennettu"));
    assert!(text(to_forger[0]).contains("eri osoitteesta"));
    assert_eq!(
        sent_to(&after, "medicine.mentor@uni.test").len(),
        1,
        "no answer to an auto-reply"
    );

    // Closed: the reply is refused and the mentor is told why.
    let closed = app
        .graphql(
            "mutation($id: ID!) { closeInquiry(id: $id) { status } }",
            json!({ "id": inquiry }),
            channel.token("lead"),
        )
        .await;
    assert_ok(&closed);
    app.drain_mail().await;
    let before = sink.messages().len();
    reply(
        &app,
        "apple_en.eml",
        "medicine.mentor@uni.test",
        &medicine,
        "Forged or not",
    )
    .await;
    let now = targets(&app, &channel, &inquiry).await;
    assert_eq!(target(&now, "medicine")["status"], "PENDING");
    assert!(
        target(&now, "medicine")["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.drain_mail().await;
    let all = sink.messages();
    let told: Vec<_> = all[before..]
        .iter()
        .filter(|m| to_of(m) == "medicine.mentor@uni.test")
        .collect();
    assert_eq!(told.len(), 1);
    assert!(subject(told[0]).contains("your reply was not recorded"));
    assert!(
        text(told[0]).contains("The inquiry has closed"),
        "{}",
        text(told[0])
    );
}

#[tokio::test]
async fn a_service_unit_contact_answers_a_forwarded_question_by_replying() {
    let sink = SmtpSink::start().await;
    let app = app_taking_replies(&sink).await;
    let channel = app.seed_channel().await;
    let asked = app
        .graphql(
            "mutation($c: ID!) { askQuestion(input: { communityId: $c, title: \"Oral exams online\", body: \"How?\" }) { id } }",
            json!({ "c": channel.org("science") }),
            channel.token("science.staff"),
        )
        .await;
    assert_ok(&asked);
    let question = asked["data"]["askQuestion"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let forwarded = app
        .graphql(
            "mutation($q: ID!, $u: ID!) { forwardQuestion(input: { questionId: $q, serviceUnitId: $u, note: \"Please help\", hideAsker: true }) { status } }",
            json!({ "q": question, "u": channel.org("it-services") }),
            channel.token("science.mentor"),
        )
        .await;
    assert_ok(&forwarded);
    app.drain_mail().await;
    let messages = sink.messages();
    let to_contact = sent_to(&messages, "unit.contact@uni.test");
    assert_eq!(to_contact.len(), 1);
    assert!(
        !text(to_contact[0]).contains("science staff"),
        "the asker's name stays hidden"
    );
    let address = reply_address(to_contact[0]);
    reply(
        &app,
        "gmail_en_wrapped.eml",
        "unit.contact@uni.test",
        &address,
        &subject(to_contact[0]),
    )
    .await;
    let seen = app
        .graphql(
            "query($id: ID!) { question(id: $id) { status answer answeredBy { displayName } } }",
            json!({ "id": question }),
            channel.token("science.staff"),
        )
        .await;
    assert_ok(&seen);
    assert_eq!(seen["data"]["question"]["status"], "ANSWERED");
    assert_eq!(
        seen["data"]["question"]["answer"],
        "Thanks, that answers it."
    );
    app.drain_mail().await;
    let all = sink.messages();
    assert!(
        sent_to(&all, "science.staff@uni.test")
            .iter()
            .any(|m| text(m).contains("Thanks, that answers it.")),
        "the asker is emailed the answer"
    );
}

const DELIVERIES: &str = "query { deliveries(status: BOUNCED) { edges { node { recipientEmail status bouncedAt lastError } } } suspendedAddresses { email suspendedAt } }";

#[tokio::test]
async fn delivery_reports_mark_bounces_and_repeated_hard_bounces_suspend_the_address() {
    let sink = SmtpSink::start().await;
    let app = app_taking_replies(&sink).await;
    let channel = app.seed_channel().await;
    for title in ["First", "Second", "Third"] {
        app.published_inquiry(&channel, title, &["science"]).await;
    }
    app.drain_mail().await;
    let sent = sink.messages();
    let to_mentor = sent_to(&sent, "science.mentor@uni.test");
    assert_eq!(to_mentor.len(), 3);
    for (i, email) in to_mentor.iter().enumerate() {
        let bounce = email.from.trim_matches(|c| c == '<' || c == '>').to_owned();
        assert!(bounce.starts_with("bounce+"), "{bounce}");
        // The reply address does not take bounces, nor the bounce address replies.
        assert_ne!(bounce, reply_address(email));
        // A delivery status notification comes with the empty envelope sender.
        let raw = fixture(
            "dsn.eml",
            "science.mentor@uni.test",
            &bounce,
            &subject(email),
        );
        send(&app, "", &bounce, &raw).await.unwrap();
        let admin = app
            .graphql(DELIVERIES, json!({}), channel.token("admin"))
            .await;
        assert_ok(&admin);
        let bounced = admin["data"]["deliveries"]["edges"].as_array().unwrap();
        assert_eq!(bounced.len(), i + 1, "{admin}");
        assert!(
            bounced[0]["node"]["lastError"]
                .as_str()
                .unwrap()
                .contains("5.1.1"),
            "{admin}"
        );
        let suspended = admin["data"]["suspendedAddresses"].as_array().unwrap();
        assert_eq!(suspended.len(), usize::from(i == 2), "{admin}");
    }
    // Nothing more goes to the suspended address; the co-mentor still hears.
    app.published_inquiry(&channel, "Fourth", &["science"])
        .await;
    app.drain_mail().await;
    let after = sink.messages();
    assert_eq!(sent_to(&after, "science.mentor@uni.test").len(), 3);
    assert_eq!(sent_to(&after, "science.comentor@uni.test").len(), 4);
    // An admin resumes it.
    let resumed = app
        .graphql(
            "mutation($u: ID!) { resumeEmail(userId: $u) }",
            json!({ "u": channel.user_id("science.mentor").to_string() }),
            channel.token("admin"),
        )
        .await;
    assert_ok(&resumed);
    assert_eq!(resumed["data"]["resumeEmail"], true);
    let refused = app
        .graphql(
            "mutation($u: ID!) { resumeEmail(userId: $u) }",
            json!({ "u": channel.user_id("science.mentor").to_string() }),
            channel.token("science.comentor"),
        )
        .await;
    assert_eq!(
        crate::helpers::error_code(&refused).as_deref(),
        Some("FORBIDDEN")
    );
    app.published_inquiry(&channel, "Fifth", &["science"]).await;
    app.drain_mail().await;
    assert_eq!(
        sent_to(&sink.messages(), "science.mentor@uni.test").len(),
        4
    );
    let user = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq("science.mentor@uni.test"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_suspended_at.is_none());
}

/// One line of a generated SMTP session: commands in any order and case, junk, overlong lines,
/// invalid UTF-8, and now and then a whole message.
fn session_line() -> impl proptest::strategy::Strategy<Value = Vec<Vec<u8>>> {
    use proptest::prelude::*;
    let whole = Just(vec![
        b"MAIL FROM:<someone@uni.test>".to_vec(),
        b"RCPT TO:<{valid}>".to_vec(),
        b"DATA".to_vec(),
    ]);
    let single = prop_oneof![
        Just(b"EHLO client.test".to_vec()),
        Just(b"lhlo client.test".to_vec()),
        Just(b"HELO".to_vec()),
        Just(b"MAIL FROM:<someone@uni.test>".to_vec()),
        Just(b"MAIL FROM:<>".to_vec()),
        Just(b"mail from:".to_vec()),
        Just(b"RCPT TO:<reply+00@reply.digimentor.test>".to_vec()),
        Just(b"RCPT TO:<postmaster@reply.digimentor.test>".to_vec()),
        Just(b"RCPT TO:<{valid}>".to_vec()),
        Just(b"RCPT TO:".to_vec()),
        Just(b"DATA".to_vec()),
        Just(b"RSET".to_vec()),
        Just(b"NOOP".to_vec()),
        Just(b"VRFY x".to_vec()),
        Just(b"STARTTLS".to_vec()),
        Just(b"BDAT 10 LAST".to_vec()),
        Just(vec![b'A'; 5000]),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|mut v| {
            v.retain(|b| *b != b'\n');
            v
        }),
        "[A-Z]{1,8}( [ -~]{0,60})?".prop_map(String::into_bytes),
    ]
    .prop_map(|line| vec![line]);
    prop_oneof![4 => single, 1 => whole]
}

#[tokio::test]
async fn generated_smtp_sessions_get_an_answer_to_every_line_and_change_nothing() {
    use proptest::strategy::{Strategy, ValueTree};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let sink = SmtpSink::start().await;
    let app = app_taking_replies(&sink).await;
    let channel = app.seed_channel().await;
    let (inquiry, _) = app
        .published_inquiry(&channel, "Generated", &["science"])
        .await;
    app.drain_mail().await;
    let invitation = sent_to(&sink.messages(), "science.mentor@uni.test")[0].clone();
    let address = reply_address(&invitation);

    let strategy = proptest::collection::vec(session_line(), 1..30);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for case in 0..40 {
        let mut lines = vec![b"EHLO client.test".to_vec()];
        lines.extend(
            strategy
                .new_tree(&mut runner)
                .unwrap()
                .current()
                .into_iter()
                .flatten(),
        );
        let stream = tokio::net::TcpStream::connect(app.inbound.unwrap())
            .await
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let (read, mut write) = stream.into_split();
        let mut replies = BufReader::new(read);
        let mut greeting = String::new();
        replies.read_line(&mut greeting).await.unwrap();
        assert!(greeting.starts_with("220 "), "{greeting}");
        let mut in_data = false;
        for line in &lines {
            let mut sent = String::from_utf8(line.clone())
                .map(|l| l.replace("{valid}", &address).into_bytes())
                .unwrap_or_else(|_| line.clone());
            sent.extend_from_slice(b"\r\n");
            if in_data {
                // Inside DATA only the lone dot is answered; end it so the session goes on.
                sent.extend_from_slice(b".\r\n");
                in_data = false;
            }
            write.write_all(&sent).await.unwrap();
            // Every line gets a complete reply: lines `NNN-…` continue, `NNN …` ends it.
            loop {
                let mut reply = String::new();
                let read =
                    tokio::time::timeout(Duration::from_secs(10), replies.read_line(&mut reply))
                        .await
                        .unwrap_or_else(|_| {
                            panic!(
                                "case {case}: no answer to {:?}",
                                String::from_utf8_lossy(line)
                            )
                        })
                        .unwrap();
                assert!(
                    read > 0,
                    "case {case}: closed after {:?}",
                    String::from_utf8_lossy(line)
                );
                let code = reply.get(..3).unwrap_or_default();
                assert!(
                    code.chars().all(|c| c.is_ascii_digit()),
                    "case {case}: {reply:?}"
                );
                if code == "354" {
                    in_data = true;
                }
                if reply.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
            if in_data {
                // A tiny message for the recipients accepted so far.
                write
                    .write_all(b"Subject: x\r\nFrom: a@b.test\r\n\r\nbody\r\n")
                    .await
                    .unwrap();
            }
        }
        drop(write);
    }
    // Generated messages to the real address came from another sender: refused, not applied.
    let refused = entity::inbound_mail::Entity::find()
        .filter(entity::inbound_mail::Column::Outcome.eq("refused"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(!refused.is_empty(), "the generated sessions reached DATA");
    // Nothing generated reached the inquiry, and a real reply still does.
    let now = targets(&app, &channel, &inquiry).await;
    assert_eq!(target(&now, "science")["status"], "PENDING");
    reply(
        &app,
        "apple_en.eml",
        "science.mentor@uni.test",
        &address,
        &subject(&invitation),
    )
    .await;
    let now = targets(&app, &channel, &inquiry).await;
    assert_eq!(target(&now, "science")["status"], "ANSWERED");
}
