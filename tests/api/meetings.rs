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

/// The events of a calendar, each as its properties, after checking it parses.
fn calendar_events(ics: &str) -> Vec<std::collections::HashMap<String, String>> {
    let calendar = icalendar::Calendar::from_str(ics).unwrap();
    calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .map(properties)
        .collect()
}

/// The public calendar feed: each meeting's UID with its `STATUS` and `SEQUENCE`.
async fn feed_status(
    app: &crate::helpers::TestApp,
) -> std::collections::HashMap<String, (Option<String>, String)> {
    let feed = reqwest::get(app.url("/feeds/meetings.ics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    calendar_events(&feed)
        .into_iter()
        .map(|p| {
            (
                p["UID"].clone(),
                (p.get("STATUS").cloned(), p["SEQUENCE"].clone()),
            )
        })
        .collect()
}

/// The email sent since the sink held `before` messages, split into what reached the topic's
/// follower (exactly one) and the four mentors (one each).
async fn told(
    app: &crate::helpers::TestApp,
    sink: &SmtpSink,
    before: usize,
) -> (Vec<crate::smtp::Received>, Vec<crate::smtp::Received>) {
    app.drain_mail().await;
    let sent = sink.messages()[before..].to_vec();
    let (to_staff, to_mentors): (Vec<_>, Vec<_>) = sent
        .into_iter()
        .partition(|m| m.to[0].contains("arts.staff"));
    assert_eq!(to_mentors.len(), 4, "every mentor, once: {to_mentors:?}");
    assert_eq!(to_staff.len(), 1, "the topic's subscriber, once");
    (to_staff, to_mentors)
}

/// A network that sends its email to a test SMTP server, with a topic `ai` that the arts staff
/// member follows at once.
async fn with_topic_follower() -> (
    SmtpSink,
    crate::helpers::TestApp,
    crate::helpers::Channel,
    String,
) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    let topic = app
        .graphql("mutation { createTopic(input: { slug: \"ai\", nameFi: \"Tekoäly\", nameSv: \"AI\", nameEn: \"AI\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ok(
        &app.graphql(
            "mutation($t: ID!) { subscribeTopic(topicId: $t, frequency: IMMEDIATE) { frequency } }",
            json!({ "t": topic }),
            ch.token("arts.staff"),
        )
        .await,
    );
    (sink, app, ch, topic)
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
    let app = spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
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
    let (sink, app, ch, topic) = with_topic_follower().await;
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

/// Cancelling a meeting: every mentor gets one `METHOD:CANCEL` for the meeting's UID with the
/// SEQUENCE raised and `STATUS:CANCELLED`; its topics' subscribers are told; the feed keeps it
/// as cancelled; its page and the list say so; it cannot be changed or cancelled again, and
/// only an admin cancels.
#[tokio::test]
async fn a_cancelled_meeting_is_withdrawn_from_every_calendar_and_says_so_everywhere() {
    use mail_parser::MimeHeaders;
    let (sink, app, ch, topic) = with_topic_follower().await;
    let mut meeting = input(Utc::now() + Duration::days(5));
    meeting["topicIds"] = json!([topic]);
    let scheduled = app
        .graphql(SCHEDULE, json!({ "i": meeting, "n": 2 }), ch.token("admin"))
        .await;
    assert_ok(&scheduled);
    let id = scheduled["data"]["scheduleMeeting"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = scheduled["data"]["scheduleMeeting"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain_mail().await;
    let before = sink.messages().len();

    const CANCEL: &str = "mutation($id: ID!, $r: String) { cancelMeeting(id: $id, reason: $r) { id cancelledAt cancelReason sequence } }";
    let refused = app
        .graphql(
            CANCEL,
            json!({ "id": id, "r": null }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    let long = app
        .graphql(
            CANCEL,
            json!({ "id": id, "r": "x".repeat(2001) }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&long).as_deref(), Some("BAD_USER_INPUT"));
    let cancelled = app
        .graphql(
            CANCEL,
            json!({ "id": id, "r": "  The hall is being renovated.  " }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&cancelled);
    let cancelled = &cancelled["data"]["cancelMeeting"];
    assert!(cancelled["cancelledAt"].is_string());
    assert_eq!(cancelled["cancelReason"], "The hall is being renovated.");
    assert_eq!(cancelled["sequence"], 1);

    let again = app
        .graphql(CANCEL, json!({ "id": id, "r": null }), ch.token("admin"))
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));
    let changed = app
        .graphql(
            "mutation($id: ID!, $i: MeetingInput!) { updateMeeting(id: $id, input: $i) { id } }",
            json!({ "id": id, "i": input(Utc::now() + Duration::days(7)) }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&changed).as_deref(), Some("CONFLICT"));
    let missing = app
        .graphql(
            CANCEL,
            json!({ "id": uuid::Uuid::now_v7().to_string(), "r": null }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&missing).as_deref(), Some("NOT_FOUND"));

    let (to_staff, to_mentors) = told(&app, &sink, before).await;
    assert_eq!(
        to_staff[0].parsed().subject(),
        Some("[Digimentor] Tekoäly: Verkostotapaaminen peruttu: Digimentor network meeting")
    );
    for message in &to_mentors {
        let recipient = message.to[0].trim_matches(['<', '>']).to_owned();
        let parsed = message.parsed();
        assert_eq!(
            parsed.subject(),
            Some("[Digimentor] Peruttu: Verkostotapaaminen: Digimentor network meeting")
        );
        let text = parsed.body_text(0).unwrap().to_string();
        assert!(text.contains("Verkostotapaaminen on peruttu."), "{text}");
        assert!(text.contains("Syy: The hall is being renovated."), "{text}");
        assert!(
            !text.contains("AI in exams"),
            "no agenda for a cancelled meeting: {text}"
        );
        assert!(
            text.contains(&format!("http://digimentor.test/meetings/{id}")),
            "{text}"
        );
        assert_eq!(parsed.attachment_count(), 1, "the one cancelled meeting");
        let attachment = parsed.attachment(0).unwrap();
        assert_eq!(attachment.attachment_name(), Some("cancel.ics"));
        let content_type = attachment.content_type().unwrap();
        assert_eq!(content_type.attribute("method"), Some("CANCEL"));
        let ics = String::from_utf8(attachment.contents().to_vec()).unwrap();
        assert!(ics.contains("\r\nMETHOD:CANCEL\r\n"), "{ics}");
        let events = calendar_events(&ics);
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(event["UID"], format!("meeting-{id}@digimentor.test"));
        assert_eq!(event["SEQUENCE"], "1");
        assert_eq!(event["STATUS"], "CANCELLED");
        assert_eq!(event["ORGANIZER"], "mailto:digimentor@digimentor.test");
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains(&format!(
                "ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:{recipient}\r\n"
            )),
            "the one attendee it is sent to: {ics}"
        );
        // Threaded under the invitation it withdraws.
        let invitation = sink.messages()[..before]
            .iter()
            .find(|m| m.to == message.to)
            .map(|m| m.parsed().message_id().unwrap().to_owned())
            .unwrap();
        let references = parsed.references().as_text_list().unwrap_or_default();
        assert_eq!(references, [invitation.as_str()], "{recipient}");
    }

    // The feed keeps it, cancelled; the other meeting of the series is still on.
    let status = feed_status(&app).await;
    assert_eq!(
        status[&format!("meeting-{id}@digimentor.test")]
            .0
            .as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(status[&format!("meeting-{other}@digimentor.test")].0, None);

    // Lists mark it; the home page's next meeting is the one still on.
    let listed = app
        .graphql(
            "{ all: meetings(when: UPCOMING) { id cancelledAt } on: meetings(when: UPCOMING, includeCancelled: false) { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(listed["data"]["all"].as_array().unwrap().len(), 2);
    assert_eq!(listed["data"]["on"], json!([{ "id": other }]));
    let page = reqwest::get(app.url(&format!("/meetings/{id}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Tapaaminen on peruttu."), "{page}");
    assert!(page.contains("The hall is being renovated."), "{page}");
    let list = reqwest::get(app.url("/meetings"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        list.matches("<strong>Peruttu</strong>").count(),
        1,
        "{list}"
    );
    let home = reqwest::get(app.url("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains(&format!("/meetings/{other}")), "{home}");
    assert!(!home.contains(&format!("/meetings/{id}")), "{home}");
}

#[tokio::test]
async fn what_is_left_of_a_series_is_cancelled_at_once_and_every_edit_raises_the_sequence() {
    use mail_parser::MimeHeaders;
    let (sink, app, ch, topic) = with_topic_follower().await;
    assert_ok(
        &app.graphql(
            "mutation { updateNotificationSettings(input: { locale: SV }) { locale } }",
            json!({}),
            ch.token("arts.mentor"),
        )
        .await,
    );
    let mut meeting = input(Utc::now() + Duration::days(5));
    meeting["topicIds"] = json!([topic]);
    let scheduled = app
        .graphql(SCHEDULE, json!({ "i": meeting, "n": 3 }), ch.token("admin"))
        .await;
    assert_ok(&scheduled);
    let ids: Vec<String> = scheduled["data"]["scheduleMeeting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    let lone = app
        .graphql(
            SCHEDULE,
            json!({ "i": input(Utc::now() + Duration::days(9)), "n": 1 }),
            ch.token("admin"),
        )
        .await["data"]["scheduleMeeting"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An edited meeting stays in its series, one SEQUENCE higher.
    let edited = app
        .graphql(
            "mutation($id: ID!, $i: MeetingInput!) { updateMeeting(id: $id, input: $i) { sequence seriesId } }",
            json!({ "id": ids[1], "i": input(Utc::now() + Duration::days(40)) }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&edited);
    assert_eq!(edited["data"]["updateMeeting"]["sequence"], 1);
    let series = edited["data"]["updateMeeting"]["seriesId"].clone();
    assert!(series.is_string(), "{edited}");
    // The first is cancelled alone.
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { cancelMeeting(id: $id) { id } }",
            json!({ "id": ids[0] }),
            ch.token("admin"),
        )
        .await,
    );
    app.drain_mail().await;
    let before = sink.messages().len();

    const CANCEL: &str = "mutation($id: ID!, $r: String) { cancelMeetingSeries(id: $id, reason: $r) { id sequence seriesId cancelledAt cancelReason } }";
    let nowhere = uuid::Uuid::now_v7().to_string();
    for (who, id, code) in [
        ("visitor", ids[2].as_str(), "UNAUTHENTICATED"),
        ("science.mentor", ids[2].as_str(), "FORBIDDEN"),
        ("arts.staff", ids[2].as_str(), "FORBIDDEN"),
        ("admin", lone.as_str(), "BAD_USER_INPUT"),
        ("admin", nowhere.as_str(), "NOT_FOUND"),
    ] {
        let refused = app
            .graphql(CANCEL, json!({ "id": id, "r": null }), ch.token(who))
            .await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some(code),
            "{who}: {refused}"
        );
    }

    let cancelled = app
        .graphql(
            CANCEL,
            json!({ "id": ids[2], "r": "The network pauses for the spring." }),
            ch.token("admin"),
        )
        .await;
    assert_ok(&cancelled);
    let cancelled = cancelled["data"]["cancelMeetingSeries"].as_array().unwrap();
    let got: Vec<(&str, i64)> = cancelled
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["sequence"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        got,
        [(ids[1].as_str(), 2), (ids[2].as_str(), 1)],
        "what was left, soonest first, each one higher"
    );
    for m in cancelled {
        assert_eq!(m["seriesId"], series);
        assert_eq!(m["cancelReason"], "The network pauses for the spring.");
    }
    let again = app
        .graphql(
            CANCEL,
            json!({ "id": ids[0], "r": null }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));

    let (_, to_mentors) = told(&app, &sink, before).await;
    for message in &to_mentors {
        let parsed = message.parsed();
        let swedish = message.to[0].contains("arts.mentor");
        let text = parsed.body_text(0).unwrap().to_string();
        if swedish {
            assert_eq!(
                parsed.subject(),
                Some("[Digimentor] Inställt: 2 nätverksmöten: Digimentor network meeting")
            );
            assert!(
                text.contains("De återstående 2 mötena i den månatliga serien är inställda."),
                "{text}"
            );
            assert!(text.contains("Orsak: The network pauses for the spring."));
        } else {
            assert_eq!(
                parsed.subject(),
                Some("[Digimentor] Peruttu: 2 verkostotapaamista: Digimentor network meeting")
            );
            assert!(
                text.contains("Kuukausittaisen sarjan jäljellä olevat 2 tapaamista on peruttu."),
                "{text}"
            );
            assert!(text.contains("Liitteinä olevat peruutukset"), "{text}");
        }
        assert_eq!(parsed.attachment_count(), 2, "one per meeting cancelled");
        for (i, (id, sequence)) in got.iter().enumerate() {
            let attachment = parsed.attachment(i as u32).unwrap();
            let name = format!("cancel-{}.ics", i + 1);
            assert_eq!(attachment.attachment_name(), Some(name.as_str()));
            assert_eq!(
                attachment.content_type().unwrap().attribute("method"),
                Some("CANCEL")
            );
            let ics = String::from_utf8(attachment.contents().to_vec()).unwrap();
            assert!(ics.contains("\r\nMETHOD:CANCEL\r\n"), "{ics}");
            let events = calendar_events(&ics);
            assert_eq!(events.len(), 1);
            let event = &events[0];
            assert_eq!(event["UID"], format!("meeting-{id}@digimentor.test"));
            assert_eq!(event["SEQUENCE"], sequence.to_string());
            assert_eq!(event["STATUS"], "CANCELLED");
        }
    }

    // The feed holds all three cancelled and the lone meeting on.
    let status = feed_status(&app).await;
    for (id, sequence) in [(&ids[0], "1"), (&ids[1], "2"), (&ids[2], "1")] {
        assert_eq!(
            status[&format!("meeting-{id}@digimentor.test")],
            (Some("CANCELLED".to_owned()), sequence.to_owned())
        );
    }
    assert_eq!(
        status[&format!("meeting-{lone}@digimentor.test")],
        (None, "0".to_owned())
    );
}
