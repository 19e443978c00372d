//! The network's own agenda: digimentors propose and support items, the chair sets a coming
//! meeting's items from them, the meeting's report records them handled; who may do what,
//! who is told by email and live, and what the pages show.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::{
    Channel, TestApp, WsClient, assert_ok, error_code, spawn_app, spawn_app_with,
};
use crate::smtp::SmtpSink;

const PROPOSE: &str = "mutation($t: String!, $b: String!) { proposeAgendaItem(input: { title: $t, body: $b }) { id status supportCount } }";
const SUPPORT: &str =
    "mutation($id: ID!, $s: Boolean!) { supportAgendaItem(id: $id, supported: $s) { id } }";
const SET: &str = "mutation($m: ID!, $i: [ID!]!) { setMeetingAgenda(meetingId: $m, itemIds: $i) { title status } }";
const LIST: &str = "{ agendaItems { title status supportCount supportedByMe } }";

async fn meeting(app: &TestApp, ch: &Channel, days: i64) -> String {
    let start = Utc::now() + Duration::days(days);
    let body = app
        .graphql(
            "mutation($i: MeetingInput!) { scheduleMeeting(input: $i) { id } }",
            json!({ "i": {
                "title": format!("Network meeting in {days} days"),
                "startsAt": start.to_rfc3339(),
                "endsAt": (start + Duration::hours(2)).to_rfc3339(),
                "place": "Hall 12",
            } }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&body);
    body["data"]["scheduleMeeting"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn propose(app: &TestApp, ch: &Channel, who: &str, title: &str) -> String {
    let body = app
        .graphql(
            PROPOSE,
            json!({ "t": title, "b": "Why it **matters**." }),
            ch.token(who),
        )
        .await;
    assert_ok(&body);
    assert_eq!(body["data"]["proposeAgendaItem"]["status"], "PROPOSED");
    body["data"]["proposeAgendaItem"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn recipients(sink: &SmtpSink, from: usize) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = sink.messages()[from..]
        .iter()
        .map(|m| {
            (
                m.to[0].trim_matches(['<', '>']).to_owned(),
                m.parsed().subject().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    got.sort();
    got
}

#[tokio::test]
async fn mentors_propose_and_support_items_the_chair_places_and_the_report_handles() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    let next = meeting(&app, &ch, 10).await;
    let later = meeting(&app, &ch, 40).await;
    let mut mentor_ws = WsClient::connect(&app, json!({ "token": ch.token("medicine.mentor") }))
        .await
        .unwrap();
    let kinds = "subscription { events(filter: { kinds: [\"agenda.item_proposed\", \"agenda.item_supported\"] }) { kind } }";
    mentor_ws.subscribe_ready("a", kinds, json!({})).await;
    let mut staff_ws = WsClient::connect(&app, json!({ "token": ch.token("science.staff") }))
        .await
        .unwrap();
    staff_ws.subscribe_ready("a", kinds, json!({})).await;
    app.drain_mail().await;
    let before = sink.messages().len();

    // Only digimentors (and admins) propose; a title is one line.
    for (who, title, code) in [
        ("visitor", "AI rules", "UNAUTHENTICATED"),
        ("science.staff", "AI rules", "FORBIDDEN"),
        ("unit.contact", "AI rules", "FORBIDDEN"),
        ("lead", "AI rules", "FORBIDDEN"),
        ("science.mentor", "  ", "BAD_USER_INPUT"),
        ("science.mentor", "two\nlines", "BAD_USER_INPUT"),
    ] {
        let body = app
            .graphql(PROPOSE, json!({ "t": title, "b": "" }), ch.token(who))
            .await;
        assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}");
    }
    let ai = propose(&app, &ch, "science.mentor", "Shared AI rules").await;
    let exams = propose(&app, &ch, "arts.mentor", "Exam room booking").await;
    assert_eq!(
        mentor_ws.next_data().await["events"]["kind"],
        "agenda.item_proposed"
    );
    app.drain_mail().await;
    assert_eq!(
        recipients(&sink, before),
        [
            (
                "admin@uni.test".to_owned(),
                "Ehdotus verkoston esityslistalle: Exam room booking – Digimentor".to_owned()
            ),
            (
                "admin@uni.test".to_owned(),
                "Ehdotus verkoston esityslistalle: Shared AI rules – Digimentor".to_owned()
            ),
        ],
        "the chair hears of each proposal"
    );

    // Support: not one's own, not by staff; twice is once; withdrawn is gone.
    for (who, id, code) in [
        ("science.mentor", &ai, "CONFLICT"),
        ("science.staff", &ai, "FORBIDDEN"),
        ("visitor", &ai, "UNAUTHENTICATED"),
    ] {
        let body = app
            .graphql(SUPPORT, json!({ "id": id, "s": true }), ch.token(who))
            .await;
        assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}");
    }
    for (who, id, supported) in [
        ("arts.mentor", &ai, true),
        ("arts.mentor", &ai, true),
        ("science.comentor", &ai, true),
        ("medicine.mentor", &exams, true),
        ("medicine.mentor", &exams, false),
    ] {
        assert_ok(
            &app.graphql(SUPPORT, json!({ "id": id, "s": supported }), ch.token(who))
                .await,
        );
    }
    let listed = app.graphql(LIST, json!({}), ch.token("arts.mentor")).await;
    assert_eq!(
        listed["data"]["agendaItems"],
        json!([
            { "title": "Shared AI rules", "status": "PROPOSED", "supportCount": 2, "supportedByMe": true },
            { "title": "Exam room booking", "status": "PROPOSED", "supportCount": 0, "supportedByMe": false },
        ]),
        "the most supported first"
    );
    let visitor = app.graphql(LIST, json!({}), None).await;
    assert_eq!(error_code(&visitor).as_deref(), Some("UNAUTHENTICATED"));
    // Live to mentors (the proposal above, then each support that changed something), never
    // to staff.
    let mut supported = 0;
    while !mentor_ws
        .stays_quiet(std::time::Duration::from_millis(300))
        .await
    {
        supported += 1;
    }
    assert!(supported >= 1, "supports reached the mentors live");
    assert!(
        staff_ws
            .stays_quiet(std::time::Duration::from_millis(300))
            .await
    );

    // The chair sets the agenda; nothing wrong is written.
    let cancelled = meeting(&app, &ch, 20).await;
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { cancelMeeting(id: $id) { id } }",
            json!({ "id": cancelled }),
            ch.token("admin"),
        )
        .await,
    );
    let nowhere = uuid::Uuid::now_v7().to_string();
    for (who, meeting, items, code) in [
        ("arts.mentor", &next, json!([ai]), "FORBIDDEN"),
        ("admin", &next, json!([ai, nowhere]), "BAD_USER_INPUT"),
        ("admin", &next, json!([ai, ai]), "BAD_USER_INPUT"),
        ("admin", &nowhere, json!([ai]), "BAD_USER_INPUT"),
        ("admin", &cancelled, json!([ai]), "CONFLICT"),
    ] {
        let body = app
            .graphql(SET, json!({ "m": meeting, "i": items }), ch.token(who))
            .await;
        assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}");
    }
    app.drain_mail().await;
    let placed_from = sink.messages().len();
    let set = app
        .graphql(
            SET,
            json!({ "m": next, "i": [exams, ai] }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&set);
    assert_eq!(
        set["data"]["setMeetingAgenda"],
        json!([
            { "title": "Exam room booking", "status": "ON_AGENDA" },
            { "title": "Shared AI rules", "status": "ON_AGENDA" },
        ])
    );
    let listed = app
        .graphql(
            "{ agendaItems { title status } }",
            json!({}),
            ch.token("lead"),
        )
        .await;
    assert_eq!(
        listed["data"]["agendaItems"],
        json!([
            { "title": "Exam room booking", "status": "ON_AGENDA" },
            { "title": "Shared AI rules", "status": "ON_AGENDA" },
        ]),
        "placed items in their agenda's order"
    );
    let elsewhere = app
        .graphql(SET, json!({ "m": later, "i": [ai] }), ch.token("admin"))
        .await;
    assert_eq!(error_code(&elsewhere).as_deref(), Some("CONFLICT"));
    app.drain_mail().await;
    let told: Vec<String> = recipients(&sink, placed_from)
        .into_iter()
        .map(|(to, subject)| format!("{to}: {subject}"))
        .collect();
    assert_eq!(
        told,
        [
            "arts.mentor@uni.test: Esityslistalla: Exam room booking – Digimentor",
            "arts.mentor@uni.test: Esityslistalla: Shared AI rules – Digimentor",
            "science.comentor@uni.test: Esityslistalla: Shared AI rules – Digimentor",
            "science.mentor@uni.test: Esityslistalla: Shared AI rules – Digimentor",
        ],
        "each placed item's proposer and supporters"
    );
    let text = sink.messages()[placed_from]
        .parsed()
        .body_text(0)
        .unwrap()
        .to_string();
    assert!(text.contains("Network meeting in 10 days"), "{text}");
    assert!(text.contains(&format!("/meetings/{next}")), "{text}");

    // The agenda is public through its meeting; leaving an item out returns it to the
    // proposals and tells nobody again.
    let public = app
        .graphql(
            "query($id: ID!) { meeting(id: $id) { agendaItems { title } } }",
            json!({ "id": next }),
            None,
        )
        .await;
    assert_eq!(
        public["data"]["meeting"]["agendaItems"],
        json!([{ "title": "Exam room booking" }, { "title": "Shared AI rules" }])
    );
    let again_from = sink.messages().len();
    assert_ok(
        &app.graphql(SET, json!({ "m": next, "i": [ai] }), ch.token("admin"))
            .await,
    );
    app.drain_mail().await;
    assert_eq!(sink.messages().len(), again_from, "nothing new was placed");

    // The report records what was on the agenda handled.
    let report = app
        .graphql(
            "mutation($m: ID!) { publishMeetingReport(meetingId: $m, input: { title: \"November report\", body: \"We agreed on AI rules.\" }) { id handledAgendaItems { title status } } }",
            json!({ "m": next }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&report);
    assert_eq!(
        report["data"]["publishMeetingReport"]["handledAgendaItems"],
        json!([{ "title": "Shared AI rules", "status": "HANDLED" }])
    );
    let report_id = report["data"]["publishMeetingReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let late = app
        .graphql(
            SUPPORT,
            json!({ "id": ai, "s": true }),
            ch.token("medicine.mentor"),
        )
        .await;
    assert_eq!(error_code(&late).as_deref(), Some("CONFLICT"));
    let left = app
        .graphql(
            "{ agendaItems(status: PROPOSED) { title } }",
            json!({}),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(
        left["data"]["agendaItems"],
        json!([{ "title": "Exam room booking" }])
    );

    // The pages say so.
    let page = app.get_text(&format!("/meetings/{next}")).await;
    assert!(
        page.contains("<h2 id=\"network-items\">Verkoston asiat</h2>"),
        "{page}"
    );
    assert!(page.contains("<li>Shared AI rules ("), "{page}");
    assert!(page.contains(") · Käsitelty</li>"), "{page}");
    assert!(
        !page.contains("Exam room booking"),
        "back among the proposals: {page}"
    );
    let page = app.get_text(&format!("/news/{report_id}")).await;
    assert!(
        page.contains("Tapaamisessa käsitellyt asiat</h2>\n<ul>\n<li>Shared AI rules</li>"),
        "{page}"
    );
}

#[tokio::test]
async fn the_agenda_page_lets_mentors_propose_and_support_and_the_chair_set_the_agenda() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let next = meeting(&app, &ch, 10).await;
    let ai = propose(&app, &ch, "arts.mentor", "Shared AI rules").await;

    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/agenda"))
        .send()
        .await
        .unwrap();
    assert_eq!(visitor.status(), 303);
    assert_eq!(visitor.headers()["location"], "/sign-in?next=%2Fagenda");

    let mut staff = crate::pages::signed_in(&app, "science.staff").await;
    let page = staff.get("/agenda").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Shared AI rules"),
        "staff read the proposals"
    );
    assert!(
        !page.body.contains("action=\"/agenda\""),
        "but do not propose"
    );
    assert!(!page.body.contains("/support\""), "nor support");

    let mut mentor = crate::pages::signed_in(&app, "science.mentor").await;
    let work = mentor.get("/me").await;
    assert!(
        work.body.contains("href=\"/agenda\""),
        "My work links the agenda"
    );
    let page = mentor.get("/agenda").await;
    let empty = mentor
        .post(
            "/agenda",
            &[
                ("csrf", &page.csrf()),
                ("title", " "),
                ("body", "Kept text"),
            ],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(
        empty.body.contains("Kirjoita asia yhdelle riville"),
        "{}",
        empty.body
    );
    assert!(empty.body.contains("Kept text</textarea>"), "nothing lost");
    let proposed = mentor
        .post(
            "/agenda",
            &[
                ("csrf", &page.csrf()),
                ("title", "Exam rooms"),
                ("body", ""),
            ],
        )
        .await;
    assert_eq!(proposed.status, 303, "{}", proposed.body);
    let page = mentor.follow(proposed).await;
    assert!(page.body.contains("Ehdotus on lähetetty"), "{}", page.body);
    let supported = mentor
        .post(
            &format!("/agenda/{ai}/support"),
            &[("csrf", &page.csrf()), ("supported", "true")],
        )
        .await;
    assert_eq!(supported.status, 303, "{}", supported.body);
    let page = mentor.follow(supported).await;
    assert!(page.body.contains("Peru tukesi"), "{}", page.body);
    assert!(
        !page.body.contains(&format!("/agenda/{next}/set")),
        "only the chair sets"
    );

    let mut chair = crate::pages::signed_in(&app, "admin").await;
    let page = chair.get("/agenda").await;
    assert!(
        page.body
            .contains(&format!("action=\"/agenda/{next}/set\"")),
        "{}",
        page.body
    );
    let set = chair
        .post(
            &format!("/agenda/{next}/set"),
            &[("csrf", &page.csrf()), ("item", &ai)],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    let page = chair.follow(set).await;
    assert!(
        page.body.contains("Esityslista on tallennettu"),
        "{}",
        page.body
    );
    let placed = app
        .graphql(
            "query($id: ID!) { meeting(id: $id) { agendaItems { title } } }",
            json!({ "id": next }),
            None,
        )
        .await;
    assert_eq!(
        placed["data"]["meeting"]["agendaItems"],
        json!([{ "title": "Shared AI rules" }])
    );
    let forged = mentor
        .post(
            &format!("/agenda/{next}/set"),
            &[("csrf", &page.csrf()), ("item", &ai)],
        )
        .await;
    assert_ne!(forged.status, 303, "a mentor's forged post is refused");
}
