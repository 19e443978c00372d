//! Announcements to staff through the mentors: who may send and relay, the coverage the sender
//! sees, who is emailed (mentors to relay, staff when asked, the author when relayed) in their
//! language, who hears live, and the pages where it is done.

use serde_json::json;

use crate::helpers::{WsClient, assert_ok, error_code, spawn_app_with};
use crate::smtp::SmtpSink;

const PUBLISH: &str = "mutation($o: ID!, $c: [ID!]!, $all: Boolean!, $staff: Boolean!, $t: String!) { publishAnnouncement(input: { organizationId: $o, title: $t, body: \"Moodle is down on **Saturday**.\", communityIds: $c, allCommunities: $all, emailStaff: $staff }) { id coverage { relayed total } targets { community { slug } relayedAt } } }";
const RELAY: &str = "mutation($a: ID!, $c: ID!, $h: String!) { markAnnouncementRelayed(announcementId: $a, communityId: $c, how: $h) { coverage { relayed total } targets { community { slug } relayedBy { email } how } } }";

#[tokio::test]
async fn mentors_relay_an_announcement_to_staff_and_the_sender_sees_the_coverage() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    assert_ok(
        &app.graphql(
            "mutation { updateNotificationSettings(input: { locale: SV }) { locale } }",
            json!({}),
            ch.token("arts.mentor"),
        )
        .await,
    );
    let (it, science, arts) = (ch.org("it-services"), ch.org("science"), ch.org("arts"));
    let mut arts_staff = WsClient::connect(&app, json!({ "token": ch.token("arts.staff") }))
        .await
        .unwrap();
    let kinds = "subscription { events(filter: { kinds: [\"announcement.published\", \"announcement.relayed\"] }) { kind } }";
    arts_staff.subscribe_ready("a", kinds, json!({})).await;
    let mut medicine = WsClient::connect(&app, json!({ "token": ch.token("medicine.mentor") }))
        .await
        .unwrap();
    medicine.subscribe_ready("a", kinds, json!({})).await;
    app.drain_mail().await;
    let before = sink.messages().len();

    // Who may send, for whom, to what.
    let vars = |org: &str, communities: serde_json::Value, all: bool| json!({ "o": org, "c": communities, "all": all, "staff": true, "t": "Moodle maintenance" });
    for (who, variables, code) in [
        (
            "visitor",
            vars(&it, json!([science]), false),
            "UNAUTHENTICATED",
        ),
        (
            "science.mentor",
            vars(&it, json!([science]), false),
            "FORBIDDEN",
        ),
        (
            "library.contact",
            vars(&it, json!([science]), false),
            "FORBIDDEN",
        ),
        (
            "unit.contact",
            vars(&science, json!([arts]), false),
            "BAD_USER_INPUT",
        ),
        (
            "unit.contact",
            vars(&it, json!([]), false),
            "BAD_USER_INPUT",
        ),
        (
            "unit.contact",
            vars(&it, json!([it]), false),
            "BAD_USER_INPUT",
        ),
    ] {
        let body = app.graphql(PUBLISH, variables, ch.token(who)).await;
        assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}");
    }
    let sent = app
        .graphql(
            PUBLISH,
            vars(&it, json!([science, arts]), false),
            ch.token("unit.contact"),
        )
        .await;
    assert_ok(&sent);
    let sent = &sent["data"]["publishAnnouncement"];
    assert_eq!(sent["coverage"], json!({ "relayed": 0, "total": 2 }));
    let id = sent["id"].as_str().unwrap().to_owned();
    assert_eq!(
        arts_staff.next_data().await["events"]["kind"],
        "announcement.published"
    );
    assert!(
        medicine
            .stays_quiet(std::time::Duration::from_millis(400))
            .await
    );

    // The mentors are asked to relay it, the staff get it straight (in their language).
    app.drain_mail().await;
    let mut told: Vec<(String, String)> = sink.messages()[before..]
        .iter()
        .map(|m| {
            (
                m.to[0].trim_matches(['<', '>']).to_owned(),
                m.parsed().body_text(0).unwrap().to_string(),
            )
        })
        .collect();
    told.sort();
    let to: Vec<&str> = told.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(
        to,
        [
            "arts.mentor@uni.test",
            "arts.staff@uni.test",
            "science.comentor@uni.test",
            "science.mentor@uni.test",
            "science.staff2@uni.test",
            "science.staff@uni.test",
        ]
    );
    for (to, text) in &told {
        assert!(
            text.contains(&format!("/announcements/{id}")),
            "{to}: {text}"
        );
        assert!(
            text.contains("Moodle is down on **Saturday**."),
            "{to}: {text}"
        );
        if to.contains("arts.mentor") {
            assert!(
                text.contains("ber enhetens digimentorer att föra meddelandet vidare"),
                "{text}"
            );
        } else if to.contains("mentor") {
            assert!(
                text.contains("pyytää yksikkönne digimentoreita välittämään"),
                "{text}"
            );
        } else {
            assert!(
                text.contains("tiedottaa yksikkönne henkilöstölle"),
                "{to}: {text}"
            );
        }
    }
    let relayed_from = sink.messages().len();

    // Only a mentor of an addressed community marks it relayed, once.
    for (who, community, how, code) in [
        ("arts.staff", &arts, "Mailing list", "FORBIDDEN"),
        ("science.mentor", &arts, "Mailing list", "FORBIDDEN"),
        (
            "medicine.mentor",
            &ch.org("medicine"),
            "Mailing list",
            "NOT_FOUND",
        ),
        (
            "science.mentor",
            &ch.org("medicine"),
            "Mailing list",
            "BAD_USER_INPUT",
        ),
        ("science.mentor", &science, "  ", "BAD_USER_INPUT"),
    ] {
        let body = app
            .graphql(
                RELAY,
                json!({ "a": id, "c": community, "h": how }),
                ch.token(who),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}");
    }
    let relayed = app
        .graphql(
            RELAY,
            json!({ "a": id, "c": science, "h": "Faculty mailing list" }),
            ch.token("science.comentor"),
        )
        .await;
    assert_ok(&relayed);
    let relayed = &relayed["data"]["markAnnouncementRelayed"];
    assert_eq!(relayed["coverage"], json!({ "relayed": 1, "total": 2 }));
    let again = app
        .graphql(
            RELAY,
            json!({ "a": id, "c": science, "h": "Again" }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));
    assert_eq!(
        arts_staff.next_data().await["events"]["kind"],
        "announcement.relayed"
    );

    // The author is told, with the coverage, in the thread of the announcement.
    app.drain_mail().await;
    let news = sink.messages()[relayed_from..].to_vec();
    assert_eq!(news.len(), 1, "the author only");
    assert_eq!(news[0].to[0], "<unit.contact@uni.test>");
    let parsed = news[0].parsed();
    assert_eq!(
        parsed.subject(),
        Some("Re: Moodle maintenance – Digimentor-tiedote")
    );
    let text = parsed.body_text(0).unwrap().to_string();
    assert!(text.contains("(Faculty mailing list)"), "{text}");
    assert!(text.contains("välitetty 1/2 yksikössä"), "{text}");

    // Who reads it: the sender's unit, leads, the addressed communities; not others.
    const READ: &str = "query($id: ID!) { announcement(id: $id) { coverage { relayed } } }";
    for (who, reads) in [
        ("unit.contact", true),
        ("lead", true),
        ("arts.staff", true),
        ("science.staff", true),
        ("admin", true),
        ("medicine.mentor", false),
        ("library.contact", false),
    ] {
        let body = app.graphql(READ, json!({ "id": id }), ch.token(who)).await;
        assert_ok(&body);
        assert_eq!(
            !body["data"]["announcement"].is_null(),
            reads,
            "{who}: {body}"
        );
    }
    let visitor = app.graphql(READ, json!({ "id": id }), None).await;
    assert_eq!(error_code(&visitor).as_deref(), Some("UNAUTHENTICATED"));
    let listed = app
        .graphql(
            "{ announcements { nodes { id } } }",
            json!({}),
            ch.token("medicine.mentor"),
        )
        .await;
    assert_eq!(listed["data"]["announcements"]["nodes"], json!([]));

    // The pages: the mentor still to relay gets the form; the sender sees the table.
    let mut mentor = crate::pages::signed_in(&app, "arts.mentor").await;
    let list = mentor.get("/announcements").await;
    assert!(
        list.body.contains("Väntar på att föras vidare"),
        "{}",
        list.body
    );
    let path = format!("/announcements/{id}");
    let page = mentor.get(&path).await;
    assert!(
        page.body.contains(&format!("action=\"{path}/relayed\"")),
        "{}",
        page.body
    );
    let empty = mentor
        .post(
            &format!("{path}/relayed"),
            &[("csrf", &page.csrf()), ("community", &arts), ("how", " ")],
        )
        .await;
    assert_eq!(empty.status, 422);
    let done = mentor
        .post(
            &format!("{path}/relayed"),
            &[
                ("csrf", &page.csrf()),
                ("community", &arts),
                ("how", "Enhetsmöte"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = mentor.follow(done).await;
    assert!(
        page.body.contains("Markerat som vidarebefordrat"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/relayed\""), "nothing left to relay");
    let mut sender = crate::pages::signed_in(&app, "unit.contact").await;
    let page = sender.get(&path).await;
    assert!(
        page.body.contains("Välitetty 2/2 yksikössä"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Enhetsmöte"), "{}", page.body);
}

#[tokio::test]
async fn a_contact_sends_an_announcement_from_the_page() {
    let app = crate::helpers::spawn_app().await;
    let ch = app.seed_channel().await;
    let topic = app
        .graphql("mutation { createTopic(input: { slug: \"print\", nameFi: \"Tulostus\", nameSv: \"Utskrift\", nameEn: \"Printing\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut staff = crate::pages::signed_in(&app, "science.staff").await;
    assert_eq!(staff.get("/announcements/new").await.status, 403);
    let mut contact = crate::pages::signed_in(&app, "unit.contact").await;
    let list = contact.get("/announcements").await;
    assert!(
        list.body.contains("href=\"/announcements/new\""),
        "{}",
        list.body
    );
    let form = contact.get("/announcements/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let refused = contact
        .post(
            "/announcements/new",
            &[
                ("csrf", &form.csrf()),
                ("organization", &ch.org("it-services")),
                ("title", "Printing"),
                ("body", "The printers move."),
                ("topic", &topic),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "no community chosen: {}", refused.body);
    assert!(
        refused
            .body
            .contains(&format!("name=\"topic\" value=\"{topic}\" checked")),
        "the topic stays ticked: {}",
        refused.body
    );
    assert!(refused.body.contains("Valitse vähintään yksi yksikkö"));
    assert!(
        refused.body.contains("The printers move.</textarea>"),
        "kept"
    );
    let sent = contact
        .post(
            "/announcements/new",
            &[
                ("csrf", &form.csrf()),
                ("organization", &ch.org("it-services")),
                ("title", "Printing"),
                ("body", "The printers move."),
                ("all", "1"),
                ("topic", &topic),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let page = contact.follow(sent).await;
    assert!(page.body.contains("Tiedote on lähetetty"), "{}", page.body);
    let topics = app
        .graphql(
            "{ announcements { nodes { title topics { slug } } } }",
            json!({}),
            ch.token("unit.contact"),
        )
        .await;
    assert_eq!(
        topics["data"]["announcements"]["nodes"][0]["topics"],
        json!([{ "slug": "print" }])
    );
    assert!(
        page.body.contains("Välitetty 0/3 yksikössä"),
        "{}",
        page.body
    );
}

/// Announcements and agenda proposals carry topics: their followers hear of them, but only
/// those who may read them (an announcement's addressed communities, its sender and the leads;
/// a proposal the digimentors), at once or in their digest.
#[tokio::test]
async fn topic_followers_who_may_read_them_hear_of_announcements_and_agenda_proposals() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    let topic = app
        .graphql("mutation { createTopic(input: { slug: \"moodle\", nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (who, frequency) in [
        ("arts.staff", "IMMEDIATE"),
        ("medicine.mentor", "IMMEDIATE"),
        ("science.staff", "IMMEDIATE"),
        ("lead", "DAILY"),
    ] {
        assert_ok(
            &app.graphql(
                "mutation($t: ID!, $f: Frequency!) { subscribeTopic(topicId: $t, frequency: $f) { frequency } }",
                json!({ "t": topic, "f": frequency }),
                ch.token(who),
            )
            .await,
        );
    }
    app.drain_mail().await;
    let before = sink.messages().len();
    let sent = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!, $t: [ID!]!) { publishAnnouncement(input: { organizationId: $o, title: \"Moodle upgrade\", body: \"Saturday\", communityIds: $c, topicIds: $t }) { id topics { slug } } }",
            json!({ "o": ch.org("it-services"), "c": [ch.org("arts")], "t": [topic] }),
            ch.token("unit.contact"),
        )
        .await;
    assert_ok(&sent);
    assert_eq!(
        sent["data"]["publishAnnouncement"]["topics"],
        json!([{ "slug": "moodle" }])
    );
    let id = sent["data"]["publishAnnouncement"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain_mail().await;
    let told: Vec<_> = sink.messages()[before..].to_vec();
    let mut to: Vec<&str> = told
        .iter()
        .map(|m| m.to[0].trim_matches(['<', '>']))
        .collect();
    to.sort();
    // The mentor to relay it (by rule), the addressed community's follower (by topic); not the
    // follower in a community it was not sent to.
    assert_eq!(to, ["arts.mentor@uni.test", "arts.staff@uni.test"]);
    let follower = told
        .iter()
        .find(|m| m.to[0].contains("arts.staff"))
        .unwrap()
        .parsed()
        .body_text(0)
        .unwrap()
        .to_string();
    assert!(follower.contains("Tiedote"), "{follower}");
    assert!(
        follower.contains(&format!("/announcements/{id}")),
        "{follower}"
    );

    // A proposal for the agenda: followers among the digimentors hear of it.
    let before = sink.messages().len();
    let proposed = app
        .graphql(
            "mutation($t: [ID!]!) { proposeAgendaItem(input: { title: \"Moodle exams\", topicIds: $t }) { topics { slug } } }",
            json!({ "t": [topic] }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&proposed);
    app.drain_mail().await;
    let mut to: Vec<String> = sink.messages()[before..]
        .iter()
        .map(|m| m.to[0].trim_matches(['<', '>']).to_owned())
        .collect();
    to.sort();
    assert_eq!(to, ["admin@uni.test", "medicine.mentor@uni.test"]);

    // The lead's daily digest has the announcement (leads read every announcement), not the
    // proposal (for digimentors).
    let before = sink.messages().len();
    app.run_digests(chrono::Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    app.drain_mail().await;
    let digest = sink.messages()[before..]
        .iter()
        .find(|m| m.to[0].contains("lead@"))
        .expect("the lead's digest")
        .parsed()
        .body_text(0)
        .unwrap()
        .to_string();
    assert!(digest.contains("Moodle upgrade"), "{digest}");
    assert!(!digest.contains("Moodle exams"), "{digest}");
}
