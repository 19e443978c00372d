//! Replies and bounces polled from an IMAP mailbox (`INBOUND_IMAP_URL`) of a real Dovecot:
//! messages are delivered into it as a mail server would (with `Return-Path` and
//! `Delivered-To`), the service polls it, applies each through the API's own mutations, deletes
//! what it handled, leaves what is not ours marked seen, and leaves what it could not handle for
//! the next poll.

use std::time::Duration;

use digimentor::inbound::Inbound;
use digimentor::inbound::imap::{Poll, poll};
use entity::user::Locale;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::dovecot::Dovecot;
use crate::email::set_locale;
use crate::helpers::{TestApp, spawn_app_with};
use crate::replies::{REPLY_DOMAIN, fixture, reply_address, subject, target, targets};
use crate::smtp::SmtpSink;

/// The message as the mail server stores it: the envelope in `Return-Path` and `Delivered-To`.
fn delivered(envelope_from: &str, to: &str, raw: &str) -> String {
    format!("Return-Path: <{envelope_from}>\r\nDelivered-To: {to}\r\n{raw}")
}

async fn app_polling(sink: &SmtpSink, dovecot: &Dovecot) -> TestApp {
    let url = sink.url();
    let mailbox = dovecot.mailbox(dovecot.password);
    spawn_app_with(move |c| {
        c.mail = crate::helpers::smtp(&url);
        c.reply_domain = Some(REPLY_DOMAIN.into());
        c.inbound_imap = Some(mailbox);
        // The poller runs with the workers, as on a server.
        c.run_workers = true;
    })
    .await
}

#[tokio::test]
async fn replies_and_bounces_are_taken_from_an_imap_mailbox() {
    let Some(dovecot) = Dovecot::start().await else {
        return;
    };
    let sink = SmtpSink::start().await;
    let app = app_polling(&sink, &dovecot).await;
    let channel = app.seed_channel().await;
    set_locale(&app, "arts.mentor@uni.test", Locale::Sv).await;
    let (inquiry, _) = app
        .published_inquiry(&channel, "Training needs", &["science", "arts", "medicine"])
        .await;
    let invitations = wait_for(&sink, 4).await;
    let to = |email: &str| {
        invitations
            .iter()
            .find(|m| m.to == [format!("<{email}>")])
            .unwrap_or_else(|| panic!("an invitation to {email}"))
            .clone()
    };

    // The science mentor replies from Outlook; the running server's poller takes it.
    let science = to("science.mentor@uni.test");
    let address = reply_address(&science);
    let raw = fixture(
        "outlook_fi.eml",
        "science.mentor@uni.test",
        &address,
        &subject(&science),
    );
    dovecot
        .deliver(&delivered("science.mentor@uni.test", &address, &raw))
        .await;
    let mut answered = false;
    for _ in 0..100 {
        let now = targets(&app, &channel, &inquiry).await;
        if target(&now, "science")["status"] == "ANSWERED" {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "the poller applied the reply");
    let now = targets(&app, &channel, &inquiry).await;
    assert_eq!(
        target(&now, "science")["answer"],
        "Hei,\n\ntiedekuntamme tarvitsee koulutusta Moodlen tenttityökaluista.\n\nTerveisin\nMaija"
    );
    for _ in 0..50 {
        if dovecot.search("ALL").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        dovecot.search("ALL").await,
        Vec::<u32>::new(),
        "handled, deleted"
    );

    // Then a batch, polled by hand: the arts mentor's HTML-only Gmail reply (also delivered
    // twice, as a retrying server may), an out-of-office answer, a forged sender, a delivery
    // report for the medicine mentor's invitation, and a message for nobody of ours.
    let inbound = Inbound::new(
        app.state.clone(),
        digimentor::schema::build_schema(app.state.clone()),
    )
    .unwrap();
    let arts = to("arts.mentor@uni.test");
    let arts_address = reply_address(&arts);
    let arts_reply = delivered(
        "arts.mentor@uni.test",
        &arts_address,
        &fixture(
            "gmail_sv_html_only.eml",
            "arts.mentor@uni.test",
            &arts_address,
            &subject(&arts),
        ),
    );
    let medicine = to("medicine.mentor@uni.test");
    let medicine_address = reply_address(&medicine);
    let bounce_address = medicine.from.trim_matches(['<', '>']).to_owned();
    let batch = [
        arts_reply.clone(),
        arts_reply,
        delivered(
            "medicine.mentor@uni.test",
            &medicine_address,
            &fixture(
                "auto_reply_fi.eml",
                "medicine.mentor@uni.test",
                &medicine_address,
                &subject(&medicine),
            ),
        ),
        delivered(
            "intruder@elsewhere.test",
            &medicine_address,
            &fixture(
                "apple_en.eml",
                "intruder@elsewhere.test",
                &medicine_address,
                &subject(&medicine),
            ),
        ),
        delivered(
            "",
            &bounce_address,
            &fixture(
                "dsn.eml",
                "medicine.mentor@uni.test",
                &bounce_address,
                "Undelivered",
            ),
        ),
        delivered(
            "someone@uni.test",
            "helpdesk@uni.test",
            "From: someone@uni.test\r\nTo: helpdesk@uni.test\r\nSubject: Printer\r\nMessage-ID: <printer@uni.test>\r\n\r\nThe printer is broken.\r\n",
        ),
    ];
    // The server's own poller keeps running beside these polls, as another instance's would:
    // the inbound log applies each message once whoever fetches it.
    for raw in &batch {
        dovecot.deliver(raw).await;
    }
    let mut total = Poll::default();
    for _ in 0..50 {
        let done = poll(&inbound, &dovecot.mailbox(dovecot.password))
            .await
            .unwrap();
        total.handled += done.handled;
        total.left += done.left;
        total.deferred += done.deferred;
        if dovecot.search("UNSEEN UNDELETED").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(total.deferred, 0);
    // What is not ours stays, seen, for a person to look at; the rest is gone.
    let left = dovecot.search("ALL").await;
    assert_eq!(left.len(), 1, "only the printer message is left");
    assert_eq!(dovecot.search("SEEN").await, left);

    let now = targets(&app, &channel, &inquiry).await;
    let arts_slot = target(&now, "arts");
    assert_eq!(arts_slot["status"], "ANSWERED");
    assert_eq!(
        arts_slot["answer"],
        "Vi behöver stöd med digitala tentamina.\n\nHälsningar, Anna"
    );
    assert_eq!(
        target(&now, "medicine")["status"],
        "PENDING",
        "neither the auto-reply nor the forged sender answered for medicine"
    );
    let bounced = app
        .graphql(
            "query { deliveries(status: BOUNCED) { edges { node { recipientEmail } } } }",
            json!({}),
            channel.token("admin"),
        )
        .await;
    assert_eq!(
        bounced["data"]["deliveries"]["edges"],
        json!([{ "node": { "recipientEmail": "medicine.mentor@uni.test" } }])
    );
    // Applied once though delivered twice; the forger is told, the auto-reply is not answered.
    let outcomes: Vec<(String, String)> = entity::inbound_mail::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.sender, m.outcome))
        .collect();
    assert_eq!(outcomes.len(), 5, "{outcomes:?}");
    let sent = wait_until(&sink, |messages| {
        ["<intruder@elsewhere.test>", "<arts.mentor@uni.test>"]
            .iter()
            .all(|to| messages[invitations.len()..].iter().any(|m| m.to == [*to]))
    })
    .await;
    let later: Vec<(String, String)> = sent[invitations.len()..]
        .iter()
        .map(|m| (m.to[0].clone(), subject(m)))
        .collect();
    assert!(
        later
            .iter()
            .any(|(to, subject)| to == "<arts.mentor@uni.test>"
                && subject.contains("Training needs")),
        "the arts mentor is told what was recorded: {later:?}"
    );
    assert!(
        !later
            .iter()
            .any(|(to, _)| to == "<medicine.mentor@uni.test>"),
        "no answer to an auto-reply: {later:?}"
    );

    // The database cannot take a message: it stays unseen for the next poll, and nothing is
    // lost.
    use sea_orm::ConnectionTrait;
    app.state
        .db
        .execute_unprepared("DROP TABLE inbound_mail")
        .await
        .unwrap();
    let medicine_reply = delivered(
        "medicine.mentor@uni.test",
        &medicine_address,
        &fixture(
            "apple_en.eml",
            "medicine.mentor@uni.test",
            &medicine_address,
            &subject(&medicine),
        ),
    );
    dovecot.deliver(&medicine_reply).await;
    let later = poll(&inbound, &dovecot.mailbox(dovecot.password))
        .await
        .unwrap();
    assert_eq!(later.deferred, 1, "{later:?}");
    assert_eq!(dovecot.search("UNSEEN UNDELETED").await.len(), 1);
    assert_eq!(
        target(&targets(&app, &channel, &inquiry).await, "medicine")["status"],
        "PENDING"
    );

    // A wrong password is an error naming the step, not a crash.
    let refused = poll(&inbound, &dovecot.mailbox("not the password"))
        .await
        .unwrap_err();
    assert!(refused.contains("logging in"), "{refused}");

    // Over TLS: a certificate from the university's own CA is refused until INBOUND_IMAP_CA_FILE
    // names that CA, then the same mailbox is polled through it.
    let untrusted = poll(&inbound, &dovecot.tls_mailbox(None))
        .await
        .unwrap_err();
    assert!(untrusted.contains("the TLS handshake"), "{untrusted}");
    let trusted = poll(
        &inbound,
        &dovecot.tls_mailbox(Some(dovecot.ca_file.clone())),
    )
    .await
    .unwrap();
    assert_eq!(trusted.deferred, 1, "{trusted:?}");
}

/// The messages the SMTP sink holds once it holds at least `count` (within 20 s).
async fn wait_for(sink: &SmtpSink, count: usize) -> Vec<crate::smtp::Received> {
    wait_until(sink, |messages| messages.len() >= count).await
}

/// The messages the SMTP sink holds once `done` holds of them (within 20 s).
async fn wait_until(
    sink: &SmtpSink,
    done: impl Fn(&[crate::smtp::Received]) -> bool,
) -> Vec<crate::smtp::Received> {
    for _ in 0..200 {
        let messages = sink.messages();
        if done(&messages) {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "not in 20 s: {:?}",
        sink.messages().iter().map(|m| &m.to).collect::<Vec<_>>()
    );
}
