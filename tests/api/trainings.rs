//! Trainings and community events: who organises for whom, registration with a waiting list
//! that moves up by itself (also under concurrent registrations), the calendar (a real parser
//! reads it), the emails registrants get in their language, reminders, topics and digests,
//! who hears live, and the pages where it is done.

use std::str::FromStr;

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{WsClient, assert_ok, error_code, spawn_app, spawn_app_with};
use crate::smtp::SmtpSink;

const SCHEDULE: &str = "mutation($o: ID, $i: TrainingInput!) { scheduleTraining(organizerId: $o, input: $i) { id sequence capacity placesLeft canManage timeZone } }";
const REGISTER: &str = "mutation($id: ID!) { registerForTraining(id: $id) { placesLeft waitingCount onlineUrl myRegistration { status placeInLine } } }";
const UNREGISTER: &str = "mutation($id: ID!) { cancelTrainingRegistration(id: $id) { placesLeft waitingCount myRegistration { status } } }";
const PARTICIPANTS: &str = "query($id: ID!) { training(id: $id) { registeredCount waitingCount participants { status placeInLine registeredAt person { email } } } }";

fn input(start: chrono::DateTime<Utc>, capacity: i32) -> Value {
    json!({
        "title": "Moodle quizzes, hands on",
        "description": "Bring a course you **teach**.",
        "startsAt": start.to_rfc3339(),
        "endsAt": (start + Duration::minutes(90)).to_rfc3339(),
        "timeZone": "Europe/Helsinki",
        "place": "Physicum A113",
        "onlineUrl": "https://meet.example.edu/quizzes",
        "capacity": capacity,
    })
}

/// The events of a calendar, each as its properties, after checking it parses.
fn calendar_events(ics: &str) -> Vec<std::collections::HashMap<String, String>> {
    use icalendar::Component;
    let calendar = icalendar::Calendar::from_str(ics).unwrap_or_else(|e| panic!("{e}: {ics}"));
    calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .map(|e| {
            e.properties()
                .iter()
                .map(|(k, v)| (k.clone(), v.value().to_owned()))
                .collect()
        })
        .collect()
}

async fn schedule(
    app: &crate::helpers::TestApp,
    token: Option<&str>,
    organizer: Option<&str>,
    input: Value,
) -> String {
    let body = app
        .graphql(SCHEDULE, json!({ "o": organizer, "i": input }), token)
        .await;
    assert_ok(&body);
    body["data"]["scheduleTraining"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn each_organiser_role_schedules_for_its_own_organization_and_bad_input_is_refused() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let start = Utc::now() + Duration::days(7);
    let (science, it, management) = (
        ch.org("science"),
        ch.org("it-services"),
        ch.org("management"),
    );
    // Who may organise for whom: mentors for their community, contacts for their unit, leads
    // for management, admins for the network (and anyone).
    for (who, organizer, expected) in [
        ("visitor", Some(&science), Some("UNAUTHENTICATED")),
        ("science.staff", Some(&science), Some("FORBIDDEN")),
        ("arts.mentor", Some(&science), Some("FORBIDDEN")),
        ("unit.contact", Some(&science), Some("FORBIDDEN")),
        ("library.contact", Some(&it), Some("FORBIDDEN")),
        ("science.mentor", None, Some("FORBIDDEN")),
        ("lead", None, Some("FORBIDDEN")),
        ("science.mentor", Some(&science), None),
        ("unit.contact", Some(&it), None),
        ("lead", Some(&management), None),
        ("admin", None, None),
        ("admin", Some(&science), None),
    ] {
        let body = app
            .graphql(
                SCHEDULE,
                json!({ "o": organizer, "i": input(start, 10) }),
                ch.token(who),
            )
            .await;
        match expected {
            Some(code) => assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}"),
            None => {
                assert_ok(&body);
                assert_eq!(body["data"]["scheduleTraining"]["canManage"], true);
                assert_eq!(body["data"]["scheduleTraining"]["placesLeft"], 10);
            }
        }
    }
    // Bad input names its field and saves nothing.
    let before = app
        .graphql(
            "{ trainings(when: UPCOMING, first: 100) { id } }",
            json!({}),
            None,
        )
        .await["data"]["trainings"]
        .as_array()
        .unwrap()
        .len();
    let bad = |field: &str, value: Value| {
        let mut i = input(start, 10);
        i[field] = value;
        i
    };
    for (i, field) in [
        (bad("capacity", json!(0)), "capacity"),
        (bad("capacity", json!(10_001)), "capacity"),
        (bad("endsAt", json!(start.to_rfc3339())), "endsAt"),
        (bad("timeZone", json!("Mars/Olympus")), "timeZone"),
        (bad("onlineUrl", json!("javascript:alert(1)")), "onlineUrl"),
        (bad("title", json!("  ")), "title"),
        (
            {
                let mut i = bad("place", Value::Null);
                i["onlineUrl"] = Value::Null;
                i
            },
            "place",
        ),
    ] {
        let body = app
            .graphql(
                SCHEDULE,
                json!({ "o": science, "i": i }),
                ch.token("science.mentor"),
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let after = app
        .graphql(
            "{ trainings(when: UPCOMING, first: 100) { id } }",
            json!({}),
            None,
        )
        .await["data"]["trainings"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);

    // Only the organisers change, cancel, or see who registered; the filters find by organiser.
    let id = schedule(
        &app,
        ch.token("science.mentor"),
        Some(&science),
        input(start, 5),
    )
    .await;
    for who in ["science.staff", "arts.mentor", "unit.contact"] {
        let body = app
            .graphql(
                "mutation($id: ID!, $i: TrainingInput!) { updateTraining(id: $id, input: $i) { id } }",
                json!({ "id": id, "i": input(start, 6) }),
                ch.token(who),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{who}");
        let body = app
            .graphql(
                "mutation($id: ID!) { cancelTraining(id: $id) { id } }",
                json!({ "id": id }),
                ch.token(who),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{who}");
        let seen = app
            .graphql(PARTICIPANTS, json!({ "id": id }), ch.token(who))
            .await;
        assert!(
            seen["data"]["training"]["participants"].is_null(),
            "{who}: {seen}"
        );
    }
    for who in ["science.comentor", "admin"] {
        let seen = app
            .graphql(PARTICIPANTS, json!({ "id": id }), ch.token(who))
            .await;
        assert_eq!(seen["data"]["training"]["participants"], json!([]), "{who}");
    }
    let by_science = app
        .graphql(
            "query($o: ID) { trainings(when: UPCOMING, organizerId: $o) { organizer { slug } } }",
            json!({ "o": science }),
            None,
        )
        .await;
    let found = by_science["data"]["trainings"].as_array().unwrap();
    assert_eq!(found.len(), 3, "{by_science}");
    assert!(found.iter().all(|t| t["organizer"]["slug"] == "science"));
    let network = app
        .graphql(
            "{ trainings(when: UPCOMING, networkOnly: true) { organizer { slug } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(network["data"]["trainings"], json!([{ "organizer": null }]));
}

#[tokio::test]
async fn concurrent_registrations_fill_exactly_the_capacity_and_the_rest_wait_in_order() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    assert_ok(
        &app.graphql(
            "mutation { updateNotificationSettings(input: { locale: SV }) { locale } }",
            json!({}),
            ch.token("arts.staff"),
        )
        .await,
    );
    let start = Utc::now() + Duration::days(3);
    let id = schedule(&app, ch.token("admin"), None, input(start, 4)).await;
    app.drain_mail().await;
    let before = sink.messages().len();

    // Ten people press "register" at once.
    let people = [
        "lead",
        "unit.contact",
        "library.contact",
        "science.mentor",
        "science.comentor",
        "science.staff",
        "science.staff2",
        "arts.mentor",
        "arts.staff",
        "medicine.mentor",
    ];
    let results = futures_util::future::join_all(people.iter().map(|who| {
        let app = &app;
        let id = id.clone();
        let token = ch.token(who);
        async move {
            (
                *who,
                app.graphql(REGISTER, json!({ "id": id }), token).await,
            )
        }
    }))
    .await;
    for (who, body) in &results {
        assert_ok(body);
        let status = &body["data"]["registerForTraining"]["myRegistration"]["status"];
        assert!(
            status == "REGISTERED" || status == "WAITING",
            "{who}: {body}"
        );
        // The online link is for those with a place.
        assert_eq!(
            body["data"]["registerForTraining"]["onlineUrl"].is_null(),
            status == "WAITING",
            "{who}: {body}"
        );
    }
    let list = app
        .graphql(PARTICIPANTS, json!({ "id": id }), ch.token("admin"))
        .await;
    let training = &list["data"]["training"];
    assert_eq!(
        (
            training["registeredCount"].as_i64(),
            training["waitingCount"].as_i64()
        ),
        (Some(4), Some(6))
    );
    let mut all: Vec<&Value> = training["participants"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(all.len(), 10);
    // Exactly the four who came first have a place; the rest wait in the order they came.
    all.sort_by_key(|p| p["registeredAt"].as_str().unwrap().to_owned());
    let statuses: Vec<&str> = all.iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [["REGISTERED"; 4].as_slice(), ["WAITING"; 6].as_slice()].concat()
    );
    let lines: Vec<i64> = all[4..]
        .iter()
        .map(|p| p["placeInLine"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [1, 2, 3, 4, 5, 6]);
    // Registering twice is a conflict.
    let again = app
        .graphql(REGISTER, json!({ "id": id }), ch.token("lead"))
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));

    // Each got one email: a place with the invitation, or their place in line.
    app.drain_mail().await;
    let messages = sink.messages()[before..].to_vec();
    assert_eq!(messages.len(), 10);
    for message in &messages {
        let parsed = message.parsed();
        let to = message.to[0].trim_matches(['<', '>']).to_owned();
        let who = all
            .iter()
            .find(|p| p["person"]["email"] == to.as_str())
            .unwrap_or_else(|| panic!("{to} did not register"));
        let text = parsed.body_text(0).unwrap().to_string();
        assert!(
            text.contains(&format!("http://digimentor.test/trainings/{id}")),
            "{text}"
        );
        if who["status"] == "REGISTERED" {
            assert_eq!(parsed.attachment_count(), 1, "{to}");
            let ics = String::from_utf8(parsed.attachment(0).unwrap().contents().to_vec()).unwrap();
            assert!(ics.contains("METHOD:REQUEST"), "{ics}");
            let events = calendar_events(&ics);
            assert_eq!(events.len(), 1);
            assert!(events[0]["UID"].starts_with(&format!("training-{id}@")));
            assert_eq!(events[0]["SEQUENCE"], "0");
            assert!(
                events[0]["LOCATION"].contains("meet.example.edu/quizzes"),
                "{ics}"
            );
            assert!(text.contains("meet.example.edu/quizzes"), "{text}");
        } else {
            assert_eq!(parsed.attachment_count(), 0, "{to}");
            let line = who["placeInLine"].as_i64().unwrap();
            assert!(
                !text.contains("meet.example.edu"),
                "no link for those waiting: {text}"
            );
            let expected = if to == "arts.staff@uni.test" {
                format!("som nummer {line}")
            } else {
                format!("sijalla {line}")
            };
            assert!(text.contains(&expected), "{to}: {text}");
        }
    }

    // One with a place cancels: the first in line moves up and is told, with the invitation.
    let leaving = all[0]["person"]["email"]
        .as_str()
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    let first_waiting = all[4]["person"]["email"].as_str().unwrap().to_owned();
    let left = app
        .graphql(UNREGISTER, json!({ "id": id }), ch.token(&leaving))
        .await;
    assert_ok(&left);
    assert_eq!(
        left["data"]["cancelTrainingRegistration"]["myRegistration"]["status"],
        "CANCELLED"
    );
    assert_eq!(
        left["data"]["cancelTrainingRegistration"]["waitingCount"],
        5
    );
    assert_eq!(left["data"]["cancelTrainingRegistration"]["placesLeft"], 0);
    let not_registered = app
        .graphql(UNREGISTER, json!({ "id": id }), ch.token(&leaving))
        .await;
    assert_eq!(error_code(&not_registered).as_deref(), Some("CONFLICT"));
    let before = sink.messages().len();
    app.drain_mail().await;
    let told: Vec<_> = sink.messages()[before..].to_vec();
    let promoted = told
        .iter()
        .find(|m| m.to[0].trim_matches(['<', '>']) == first_waiting)
        .expect("the first in line is told");
    let parsed = promoted.parsed();
    assert_eq!(parsed.attachment_count(), 1);
    let ics = String::from_utf8(parsed.attachment(0).unwrap().contents().to_vec()).unwrap();
    assert!(ics.contains("METHOD:REQUEST"));
    let gone = told
        .iter()
        .find(|m| m.to[0].trim_matches(['<', '>']) == format!("{leaving}@uni.test"))
        .expect("the one who left gets the calendar's cancellation");
    let ics = String::from_utf8(gone.parsed().attachment(0).unwrap().contents().to_vec()).unwrap();
    assert!(ics.contains("METHOD:CANCEL"), "{ics}");
    assert_eq!(calendar_events(&ics)[0]["STATUS"], "CANCELLED");
    assert_eq!(told.len(), 2, "the others hear nothing");
    let list = app
        .graphql(PARTICIPANTS, json!({ "id": id }), ch.token("admin"))
        .await;
    let now_registered: Vec<&str> = list["data"]["training"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "REGISTERED")
        .map(|p| p["person"]["email"].as_str().unwrap())
        .collect();
    assert!(now_registered.contains(&first_waiting.as_str()));
    assert_eq!(now_registered.len(), 4);
}

#[tokio::test]
async fn changes_and_cancellation_reach_everyone_registered_with_the_raised_sequence() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    let start = Utc::now() + Duration::days(5);
    let science = ch.org("science");
    let id = schedule(
        &app,
        ch.token("science.mentor"),
        Some(&science),
        input(start, 1),
    )
    .await;
    for who in ["science.staff", "arts.staff"] {
        assert_ok(
            &app.graphql(REGISTER, json!({ "id": id }), ch.token(who))
                .await,
        );
    }
    app.drain_mail().await;
    let before = sink.messages().len();

    // Fewer places than are taken is refused; a move to another room reaches both.
    let mut fewer = input(start, 1);
    fewer["capacity"] = json!(0);
    let body = app
        .graphql(
            "mutation($id: ID!, $i: TrainingInput!) { updateTraining(id: $id, input: $i) { id } }",
            json!({ "id": id, "i": fewer }),
            ch.token("science.comentor"),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    let mut moved = input(start + Duration::hours(1), 2);
    moved["place"] = json!("Chemicum A129");
    let body = app
        .graphql(
            "mutation($id: ID!, $i: TrainingInput!) { updateTraining(id: $id, input: $i) { sequence placesLeft waitingCount } }",
            json!({ "id": id, "i": moved }),
            ch.token("science.comentor"),
        )
        .await;
    assert_ok(&body);
    // A place added: the one waiting moved up.
    assert_eq!(
        body["data"]["updateTraining"],
        json!({ "sequence": 1, "placesLeft": 0, "waitingCount": 0 })
    );
    app.drain_mail().await;
    let changed: Vec<_> = sink.messages()[before..].to_vec();
    let mut to: Vec<String> = changed
        .iter()
        .map(|m| m.to[0].trim_matches(['<', '>']).to_owned())
        .collect();
    to.sort();
    // The update to both, and to the one waiting also their place.
    assert_eq!(
        to,
        [
            "arts.staff@uni.test",
            "arts.staff@uni.test",
            "science.staff@uni.test"
        ]
    );
    for message in &changed {
        let parsed = message.parsed();
        let text = parsed.body_text(0).unwrap().to_string();
        assert!(text.contains("Chemicum A129"), "{text}");
        if parsed.attachment_count() == 1 {
            let ics = String::from_utf8(parsed.attachment(0).unwrap().contents().to_vec()).unwrap();
            let events = calendar_events(&ics);
            assert_eq!(events[0]["SEQUENCE"], "1", "{ics}");
            assert!(events[0]["LOCATION"].contains("Chemicum"), "{ics}");
        }
    }

    // Cancelled: both get the calendar's cancellation; registering is then a conflict.
    let before = sink.messages().len();
    let body = app
        .graphql(
            "mutation($id: ID!) { cancelTraining(id: $id, reason: \"The trainer is ill.\") { cancelledAt cancelReason sequence } }",
            json!({ "id": id }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&body);
    assert_eq!(body["data"]["cancelTraining"]["sequence"], 2);
    let again = app
        .graphql(
            "mutation($id: ID!) { cancelTraining(id: $id) { id } }",
            json!({ "id": id }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));
    let late = app
        .graphql(REGISTER, json!({ "id": id }), ch.token("arts.mentor"))
        .await;
    assert_eq!(error_code(&late).as_deref(), Some("CONFLICT"));
    app.drain_mail().await;
    let cancelled: Vec<_> = sink.messages()[before..].to_vec();
    assert_eq!(cancelled.len(), 2);
    for message in &cancelled {
        let parsed = message.parsed();
        assert!(parsed.body_text(0).unwrap().contains("The trainer is ill."));
        let ics = String::from_utf8(parsed.attachment(0).unwrap().contents().to_vec()).unwrap();
        assert!(ics.contains("METHOD:CANCEL"), "{ics}");
        let events = calendar_events(&ics);
        assert_eq!(
            (events[0]["STATUS"].as_str(), events[0]["SEQUENCE"].as_str()),
            ("CANCELLED", "2")
        );
    }

    // The open feed and the training's own calendar say it too, without the online link.
    for path in [
        "/feeds/trainings.ics".to_owned(),
        format!("/trainings/{id}/calendar.ics"),
    ] {
        let response = reqwest::get(app.url(&path)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
        let ics = response.text().await.unwrap();
        let events = calendar_events(&ics);
        let event = events
            .iter()
            .find(|e| e["UID"].starts_with(&format!("training-{id}@")))
            .unwrap();
        assert_eq!(event["STATUS"], "CANCELLED");
        assert!(!ics.contains("meet.example.edu"), "{ics}");
        assert!(ics.contains("DTSTART;TZID=Europe/Helsinki:"), "{ics}");
    }
    let missing = reqwest::get(app.url("/trainings/not-an-id/calendar.ics"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn reminders_go_once_to_those_with_a_place_the_day_before() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    let start = Utc::now() + Duration::days(3);
    let id = schedule(&app, ch.token("admin"), None, input(start, 1)).await;
    for who in ["science.staff", "arts.staff"] {
        assert_ok(
            &app.graphql(REGISTER, json!({ "id": id }), ch.token(who))
                .await,
        );
    }
    app.drain_mail().await;
    let before = sink.messages().len();
    // Two days before: nothing yet; then within the last day, once.
    let early = digimentor::scheduler::tick(&app.state, start - Duration::hours(48)).await;
    assert_eq!(early.reminders, 0);
    let due = digimentor::scheduler::tick(&app.state, start - Duration::hours(20)).await;
    assert_eq!(due.reminders, 1);
    let twice = digimentor::scheduler::tick(&app.state, start - Duration::hours(19)).await;
    assert_eq!(twice.reminders, 0);
    app.drain_mail().await;
    let reminded: Vec<_> = sink.messages()[before..].to_vec();
    assert_eq!(reminded.len(), 1);
    assert_eq!(
        reminded[0].to[0].trim_matches(['<', '>']),
        "science.staff@uni.test"
    );
    let parsed = reminded[0].parsed();
    assert!(
        parsed.subject().unwrap().contains("Muistutus"),
        "{:?}",
        parsed.subject()
    );
    let ics = String::from_utf8(parsed.attachment(0).unwrap().contents().to_vec()).unwrap();
    assert!(ics.contains("METHOD:REQUEST"));
}

#[tokio::test]
async fn topic_followers_hear_of_new_trainings_and_registrations_reach_only_their_audience() {
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
    for (who, frequency) in [("arts.staff", "IMMEDIATE"), ("medicine.mentor", "DAILY")] {
        assert_ok(
            &app.graphql(
                "mutation($t: ID!, $f: Frequency!) { subscribeTopic(topicId: $t, frequency: $f) { frequency } }",
                json!({ "t": topic, "f": frequency }),
                ch.token(who),
            )
            .await,
        );
    }
    let kinds = "subscription { events(filter: { kinds: [\"training.registered\"] }) { kind } }";
    let mut organiser = WsClient::connect(&app, json!({ "token": ch.token("science.comentor") }))
        .await
        .unwrap();
    organiser.subscribe_ready("a", kinds, json!({})).await;
    let mut colleague = WsClient::connect(&app, json!({ "token": ch.token("science.staff2") }))
        .await
        .unwrap();
    colleague.subscribe_ready("a", kinds, json!({})).await;
    app.drain_mail().await;
    let before = sink.messages().len();

    let mut i = input(Utc::now() + Duration::days(4), 10);
    i["topicIds"] = json!([topic]);
    let science = ch.org("science");
    let id = schedule(&app, ch.token("science.mentor"), Some(&science), i).await;
    app.drain_mail().await;
    let heard: Vec<_> = sink.messages()[before..].to_vec();
    assert_eq!(heard.len(), 1);
    assert_eq!(
        heard[0].to[0].trim_matches(['<', '>']),
        "arts.staff@uni.test"
    );
    let text = heard[0].parsed().body_text(0).unwrap().to_string();
    assert!(
        text.contains("Koulutus: Moodle quizzes, hands on"),
        "{text}"
    );
    assert!(
        text.contains(&format!("http://digimentor.test/trainings/{id}")),
        "{text}"
    );
    let by_topic = app
        .graphql(
            "query($t: ID) { trainings(when: UPCOMING, topicId: $t) { id topics { slug } } }",
            json!({ "t": topic }),
            None,
        )
        .await;
    assert_eq!(
        by_topic["data"]["trainings"],
        json!([{ "id": id, "topics": [{ "slug": "moodle" }] }])
    );

    // The daily digest carries it.
    let before = sink.messages().len();
    let report = app
        .run_digests(Utc::now() + Duration::days(1))
        .await
        .unwrap();
    assert!(report.queued >= 1, "{report:?}");
    app.drain_mail().await;
    let digest = sink.messages()[before..]
        .iter()
        .find(|m| m.to[0].trim_matches(['<', '>']) == "medicine.mentor@uni.test")
        .expect("a digest")
        .parsed()
        .body_text(0)
        .unwrap()
        .to_string();
    assert!(digest.contains("Moodle quizzes, hands on"), "{digest}");
    assert!(digest.contains(&format!("/trainings/{id}")), "{digest}");

    // A registration is heard by the organisers, not by a colleague.
    assert_ok(
        &app.graphql(REGISTER, json!({ "id": id }), ch.token("arts.staff"))
            .await,
    );
    assert_eq!(
        organiser.next_data().await["events"]["kind"],
        "training.registered"
    );
    assert!(
        colleague
            .stays_quiet(std::time::Duration::from_millis(400))
            .await
    );
}

#[tokio::test]
async fn staff_register_on_the_page_and_organisers_schedule_and_see_participants_there() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    // The form, as the science mentor, in Finnish (the reader's zone, Helsinki).
    let mut mentor = crate::pages::signed_in(&app, "science.mentor").await;
    let form = mentor.get("/trainings/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let day = (Utc::now() + Duration::days(9))
        .format("%Y-%m-%d")
        .to_string();
    let csrf = form.csrf();
    let science = ch.org("science");
    let bad = mentor
        .post(
            "/trainings/new",
            &[
                ("csrf", &csrf),
                ("organizer", &science),
                ("title", "Padlet for teachers"),
                ("date", &day),
                ("start", "14:00"),
                ("end", "13:00"),
                ("zone", "Europe/Helsinki"),
                ("place", "Room 1"),
                ("capacity", "2"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("aria-invalid=\"true\""));
    assert!(
        bad.body.contains("value=\"Padlet for teachers\""),
        "the draft is kept"
    );
    let saved = mentor
        .post(
            "/trainings/new",
            &[
                ("csrf", &csrf),
                ("organizer", &science),
                ("title", "Padlet for teachers"),
                ("description", "Walls for *group work*."),
                ("date", &day),
                ("start", "13:00"),
                ("end", "14:30"),
                ("zone", "Europe/Helsinki"),
                ("place", "Room 1"),
                ("online", "https://meet.example.edu/padlet"),
                ("capacity", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page_path = saved.location.clone().unwrap();
    let id = page_path
        .trim_start_matches("/trainings/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let page = mentor.follow(saved).await;
    assert!(page.body.contains("klo 13.00"), "{}", page.body);
    assert!(page.body.contains("<em>group work</em>"));

    // A visitor sees it and is asked to sign in; no online link.
    let visitor = crate::pages::Browser::new(&app)
        .get(&format!("/trainings/{id}"))
        .await;
    assert_eq!(visitor.status, 200);
    assert!(visitor.body.contains("/sign-in?next="));
    assert!(!visitor.body.contains("meet.example.edu/padlet"));
    let list = crate::pages::Browser::new(&app).get("/trainings").await;
    assert!(list.body.contains("Padlet for teachers"));
    let home = crate::pages::Browser::new(&app).get("/").await;
    assert!(home.body.contains(&format!("href=\"/trainings/{id}\"")));

    // Staff register: the first gets the place (and the link), the second waits.
    let mut staff = crate::pages::signed_in(&app, "science.staff").await;
    let got = staff.get(&format!("/trainings/{id}")).await;
    let registered = staff
        .post(
            &format!("/trainings/{id}/register"),
            &[("csrf", &got.csrf())],
        )
        .await;
    assert_eq!(registered.status, 303);
    let page = staff.follow(registered).await;
    assert!(
        page.body.contains("meet.example.edu/padlet"),
        "{}",
        page.body
    );
    let mut other = crate::pages::signed_in(&app, "arts.staff").await;
    let got = other.get(&format!("/trainings/{id}")).await;
    let waiting = other
        .post(
            &format!("/trainings/{id}/register"),
            &[("csrf", &got.csrf())],
        )
        .await;
    let page = other.follow(waiting).await;
    assert!(page.body.contains("jonossa sijalla 1"), "{}", page.body);
    assert!(!page.body.contains("meet.example.edu/padlet"));
    let twice = other
        .post(
            &format!("/trainings/{id}/register"),
            &[("csrf", &got.csrf())],
        )
        .await;
    assert_eq!(twice.status, 409);

    // The organiser sees both, in order; the colleague does not see the list.
    let page = mentor.get(&format!("/trainings/{id}")).await;
    let first = page.body.find("science.staff@uni.test").unwrap();
    let second = page.body.find("arts.staff@uni.test").unwrap();
    assert!(first < second);
    let colleague = crate::pages::signed_in(&app, "science.staff2")
        .await
        .get(&format!("/trainings/{id}"))
        .await;
    assert!(!colleague.body.contains("arts.staff@uni.test"));
    let edit = crate::pages::signed_in(&app, "science.staff2")
        .await
        .get(&format!("/trainings/{id}/edit"))
        .await;
    assert_eq!(edit.status, 403);

    // Giving up the place moves the other up; the organiser edits, then cancels.
    let got = staff.get(&format!("/trainings/{id}")).await;
    let left = staff
        .post(
            &format!("/trainings/{id}/unregister"),
            &[("csrf", &got.csrf())],
        )
        .await;
    assert_eq!(left.status, 303);
    let page = other.get(&format!("/trainings/{id}")).await;
    assert!(
        page.body.contains("meet.example.edu/padlet"),
        "moved up: {}",
        page.body
    );
    let edit = mentor.get(&format!("/trainings/{id}/edit")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains("value=\"13:00\""), "{}", edit.body);
    let changed = mentor
        .post(
            &format!("/trainings/{id}/edit"),
            &[
                ("csrf", &edit.csrf()),
                ("title", "Padlet for teachers"),
                ("date", &day),
                ("start", "13:30"),
                ("end", "15:00"),
                ("zone", "Europe/Helsinki"),
                ("place", "Room 2"),
                ("capacity", "1"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    let got = mentor.get(&format!("/trainings/{id}")).await;
    assert!(got.body.contains("Room 2"));
    let cancelled = mentor
        .post(
            &format!("/trainings/{id}/cancel"),
            &[("csrf", &got.csrf()), ("reason", "Too few registered")],
        )
        .await;
    let page = mentor.follow(cancelled).await;
    assert!(page.body.contains("Too few registered"), "{}", page.body);
    // Someone who organises nothing gets no form.
    let mut nobody = crate::pages::signed_in(&app, "science.staff2").await;
    assert_eq!(nobody.get("/trainings/new").await.status, 403);
}
