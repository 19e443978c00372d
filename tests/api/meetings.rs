//! Network meetings: scheduling (and monthly series), the public list, the iCalendar feed,
//! invitations with `.ics` to every mentor, and meeting reports.

use std::str::FromStr;

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{assert_ok, error_code, spawn_app, spawn_app_with};
use crate::smtp::SmtpSink;

const SCHEDULE: &str = "mutation($i: MeetingInput!, $n: Int!) { scheduleMeeting(input: $i, repeatMonthly: $n) { id title startsAt endsAt sequence } }";

fn input(start: chrono::DateTime<Utc>) -> Value {
    json!({
        "title": "Digimentor network meeting",
        "startsAt": start.to_rfc3339(),
        "endsAt": (start + Duration::hours(2)).to_rfc3339(),
        "place": "Main building, hall 12",
        "onlineUrl": "https://meet.example.edu/digimentors",
        "agenda": "1. News\n2. AI in exams",
    })
}

fn properties<T: icalendar::Component>(component: &T) -> std::collections::HashMap<String, String> {
    component
        .properties()
        .iter()
        .map(|(k, v)| (k.clone(), v.value().to_owned()))
        .collect()
}

#[tokio::test]
async fn admins_schedule_monthly_series_that_anyone_can_see_and_subscribe_to() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let start = Utc::now() + Duration::days(7);
    for who in ["visitor", "science.mentor", "lead", "unit.contact"] {
        let body = app
            .graphql(
                SCHEDULE,
                json!({ "i": input(start), "n": 1 }),
                ch.token(who),
            )
            .await;
        let expected = if who == "visitor" {
            "UNAUTHENTICATED"
        } else {
            "FORBIDDEN"
        };
        assert_eq!(error_code(&body).as_deref(), Some(expected), "{who}");
    }
    let series = app
        .graphql(
            SCHEDULE,
            json!({ "i": input(start), "n": 3 }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&series);
    let meetings = series["data"]["scheduleMeeting"].as_array().unwrap();
    assert_eq!(meetings.len(), 3);
    // Monthly at the same local (Helsinki) time.
    let local = |m: &Value| {
        chrono::DateTime::parse_from_rfc3339(m["startsAt"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Helsinki)
    };
    assert_eq!(local(&meetings[0]).time(), local(&meetings[2]).time());
    let gap = (local(&meetings[1]).date_naive() - local(&meetings[0]).date_naive()).num_days();
    assert!(
        (28..=31).contains(&gap),
        "{gap} days between monthly meetings"
    );

    let upcoming = app
        .graphql(
            "{ meetings(when: UPCOMING) { title place onlineUrl } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(upcoming["data"]["meetings"].as_array().unwrap().len(), 3);
    let past = app
        .graphql("{ meetings(when: PAST) { title } }", json!({}), None)
        .await;
    assert_eq!(past["data"]["meetings"], json!([]));

    // A change keeps the UID and raises SEQUENCE.
    let id = meetings[0]["id"].as_str().unwrap();
    let mut changed = input(start + Duration::hours(1));
    changed["title"] = json!("Moved meeting");
    let update = "mutation($id: ID!, $i: MeetingInput!) { updateMeeting(id: $id, input: $i) { sequence title } }";
    for who in ["science.mentor", "lead"] {
        let denied = app
            .graphql(update, json!({ "id": id, "i": changed }), ch.token(who))
            .await;
        assert_eq!(error_code(&denied).as_deref(), Some("FORBIDDEN"), "{who}");
    }
    let mut reversed = changed.clone();
    reversed["endsAt"] = json!((start - Duration::hours(5)).to_rfc3339());
    let invalid = app
        .graphql(
            update,
            json!({ "id": id, "i": reversed }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(invalid["errors"][0]["extensions"]["field"], "endsAt");
    let updated = app
        .graphql(update, json!({ "id": id, "i": changed }), ch.token("admin"))
        .await;
    assert_eq!(
        updated["data"]["updateMeeting"],
        json!({ "sequence": 1, "title": "Moved meeting" })
    );

    let response = app
        .client
        .get(app.url("/feeds/meetings.ics"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = response.text().await.unwrap();
    let calendar = icalendar::Calendar::from_str(&text).expect("valid iCalendar");
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .collect();
    assert_eq!(events.len(), 3);
    let moved = events
        .iter()
        .map(|e| properties(*e))
        .find(|p| p["SUMMARY"] == "Moved meeting")
        .unwrap();
    assert_eq!(moved["UID"], format!("meeting-{id}@digimentor.test"));
    assert_eq!(moved["SEQUENCE"], "1");
    assert!(text.contains("DTSTART;TZID=Europe/Helsinki:"), "{text}");
    assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Helsinki"));
    assert!(text.lines().all(|l| l.len() <= 76), "lines are folded");
    assert_eq!(
        moved["URL"],
        format!("http://digimentor.test/meetings/{id}")
    );
}

#[tokio::test]
async fn meeting_input_is_validated() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let start = Utc::now() + Duration::days(3);
    let mut before = input(start);
    before["endsAt"] = json!((start - Duration::hours(1)).to_rfc3339());
    let mut nowhere = input(start);
    nowhere["place"] = Value::Null;
    nowhere["onlineUrl"] = Value::Null;
    let mut bad_link = input(start);
    bad_link["onlineUrl"] = json!("javascript:alert(1)");
    let mut no_title = input(start);
    no_title["title"] = json!(" ");
    for (vars, field) in [
        (json!({ "i": before, "n": 1 }), "endsAt"),
        (json!({ "i": nowhere, "n": 1 }), "place"),
        (json!({ "i": bad_link, "n": 1 }), "onlineUrl"),
        (json!({ "i": no_title, "n": 1 }), "title"),
        (json!({ "i": input(start), "n": 13 }), "repeatMonthly"),
    ] {
        let body = app.graphql(SCHEDULE, vars, ch.token("admin")).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let none = app
        .graphql("{ meetings(when: UPCOMING) { id } }", json!({}), None)
        .await;
    assert_eq!(none["data"]["meetings"], json!([]));
}

#[tokio::test]
async fn every_mentor_is_invited_with_an_ics_attachment() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = digimentor::config::MailTransport::Smtp(url)).await;
    let ch = app.seed_channel().await;
    let start = Utc::now() + Duration::days(10);
    let scheduled = app
        .graphql(
            SCHEDULE,
            json!({ "i": input(start), "n": 2 }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&scheduled);
    let first = scheduled["data"]["scheduleMeeting"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain_mail().await;
    let messages = sink.messages();
    let mut to: Vec<String> = messages
        .iter()
        .map(|m| m.to[0].trim_matches(|c| c == '<' || c == '>').to_owned())
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            "arts.mentor@uni.test",
            "medicine.mentor@uni.test",
            "science.comentor@uni.test",
            "science.mentor@uni.test"
        ]
    );
    let message = messages[0].parsed();
    assert!(
        message
            .subject()
            .unwrap()
            .contains("Digimentor network meeting"),
        "{:?}",
        message.subject()
    );
    // The meeting's own link and thread, not an inquiry's.
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains(&format!("http://digimentor.test/meetings/{first}")),
        "{text}"
    );
    assert!(!text.contains("/inquiries/"), "{text}");
    assert!(
        message.references().is_empty(),
        "the first email about meeting {first} is its thread's root"
    );
    // One invitation per meeting (RFC 5546: one UID per REQUEST), each with its organizer.
    assert_eq!(message.attachment_count(), 2);
    let mut uids = std::collections::BTreeSet::new();
    for i in 0..2 {
        use icalendar::Component;
        use mail_parser::MimeHeaders;
        let attachment = message.attachment(i).unwrap();
        assert_eq!(
            attachment.attachment_name(),
            Some(format!("invite-{}.ics", i + 1).as_str())
        );
        let ics = String::from_utf8(attachment.contents().to_vec()).unwrap();
        assert!(ics.contains("METHOD:REQUEST"));
        assert!(
            ics.contains("ORGANIZER;CN=Digimentor:mailto:digimentor@digimentor.test"),
            "{ics}"
        );
        let calendar = icalendar::Calendar::from_str(&ics).unwrap();
        let events: Vec<_> = calendar
            .components
            .iter()
            .filter_map(|c| c.as_event())
            .collect();
        assert_eq!(events.len(), 1, "{ics}");
        uids.insert(events[0].get_uid().unwrap().to_owned());
    }
    assert_eq!(uids.len(), 2, "two meetings, two UIDs");
    assert!(uids.contains(&format!("meeting-{first}@digimentor.test")));
}

#[tokio::test]
async fn a_meeting_report_is_a_news_post_linked_to_its_meeting() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let scheduled = app
        .graphql(
            SCHEDULE,
            json!({ "i": input(Utc::now() + Duration::days(1)), "n": 1 }),
            ch.token("admin"),
        )
        .await;
    let id = scheduled["data"]["scheduleMeeting"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = app
        .graphql(
            "mutation($m: ID!) { publishMeetingReport(meetingId: $m, input: { title: \"Report\", body: \"We discussed AI.\" }) { id meetingId } }",
            json!({ "m": id }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(report["data"]["publishMeetingReport"]["meetingId"], id);
    let staff = app
        .graphql("mutation($m: ID!) { publishMeetingReport(meetingId: $m, input: { title: \"R\", body: \"B\" }) { id } }", json!({ "m": id }), ch.token("science.staff"))
        .await;
    assert_eq!(error_code(&staff).as_deref(), Some("FORBIDDEN"));
    let unknown = app
        .graphql("mutation($m: ID!) { publishMeetingReport(meetingId: $m, input: { title: \"R\", body: \"B\" }) { id } }", json!({ "m": uuid::Uuid::now_v7().to_string() }), ch.token("admin"))
        .await;
    assert_eq!(unknown["errors"][0]["extensions"]["field"], "meetingId");
    let read = app
        .graphql(
            "{ meetings(when: UPCOMING) { report { title body } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        read["data"]["meetings"][0]["report"],
        json!({ "title": "Report", "body": "We discussed AI." })
    );
    let news = app
        .graphql(
            "{ news { edges { node { title meetingId } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(news["data"]["news"]["edges"][0]["node"]["meetingId"], id);
}

#[tokio::test]
async fn meeting_topics_reach_subscribers_and_changes_send_new_invitations() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = digimentor::config::MailTransport::Smtp(url)).await;
    let ch = app.seed_channel().await;
    let topic = app
        .graphql("mutation { createTopic(input: { slug: \"ai\", nameFi: \"Tekoäly\", nameSv: \"AI\", nameEn: \"AI\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.graphql(
        "mutation($t: ID!) { subscribeTopic(topicId: $t, frequency: IMMEDIATE) { frequency } }",
        json!({ "t": topic }),
        ch.token("arts.staff"),
    )
    .await;
    let mut meeting = input(Utc::now() + Duration::days(5));
    meeting["topicIds"] = json!([topic]);
    let scheduled = app
        .graphql(SCHEDULE, json!({ "i": meeting, "n": 1 }), ch.token("admin"))
        .await;
    assert_ok(&scheduled);
    let id = scheduled["data"]["scheduleMeeting"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain_mail().await;
    let to_staff: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to[0].contains("arts.staff"))
        .collect();
    assert_eq!(to_staff.len(), 1);
    assert_eq!(
        to_staff[0].parsed().subject(),
        Some("[Digimentor] Tekoäly: Verkostotapaaminen: Digimentor network meeting")
    );
    let topics = app
        .graphql(
            "{ meetings(when: UPCOMING) { topics { slug } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        topics["data"]["meetings"][0]["topics"],
        json!([{ "slug": "ai" }])
    );

    let before = sink.messages().len();
    let mut moved = input(Utc::now() + Duration::days(6));
    moved["topicIds"] = json!([topic]);
    assert_ok(
        &app.graphql(
            "mutation($id: ID!, $i: MeetingInput!) { updateMeeting(id: $id, input: $i) { id } }",
            json!({ "id": id, "i": moved }),
            ch.token("admin"),
        )
        .await,
    );
    app.drain_mail().await;
    let again = sink.messages()[before..].to_vec();
    let (to_staff, to_mentors): (Vec<_>, Vec<_>) = again
        .into_iter()
        .partition(|m| m.to[0].contains("arts.staff"));
    assert_eq!(to_mentors.len(), 4, "every mentor is told about the change");
    // The topic's subscriber hears of the change too.
    assert_eq!(to_staff.len(), 1);
    assert_eq!(
        to_staff[0].parsed().subject(),
        Some("[Digimentor] Tekoäly: Verkostotapaaminen muuttui: Digimentor network meeting")
    );
    assert!(
        to_staff[0]
            .parsed()
            .body_text(0)
            .unwrap()
            .contains(&format!("http://digimentor.test/meetings/{id}"))
    );
    let message = to_mentors[0].parsed();
    // The update says what changed, in the reader's language and zone.
    let text = message.body_text(0).unwrap().to_string();
    let helsinki = |at: chrono::DateTime<Utc>| {
        digimentor::values::time::reader_time(
            at,
            chrono_tz::Europe::Helsinki,
            entity::user::Locale::Fi,
        )
    };
    let was = meeting["startsAt"].as_str().unwrap().parse().unwrap();
    let now = moved["startsAt"].as_str().unwrap().parse().unwrap();
    assert!(
        text.contains(&format!("Alkaa: {} → **{}**", helsinki(was), helsinki(now))),
        "{text}"
    );
    assert_eq!(
        text.matches(" → ").count(),
        2,
        "only what changed (the start and the end): {text}"
    );
    assert!(text.contains("- Päättyy: "), "{text}");
    assert!(
        message.subject().unwrap().contains("Muuttunut"),
        "{:?}",
        message.subject()
    );
    let ics = String::from_utf8(message.attachment(0).unwrap().contents().to_vec()).unwrap();
    assert!(
        ics.contains("SEQUENCE:1") && ics.contains(&format!("UID:meeting-{id}@digimentor.test")),
        "{ics}"
    );
}
