//! Questions up through mentors: asking, triage (answer, forward, close), service-unit answers,
//! hidden askers, response times and visibility.

use serde_json::{Value, json};

use crate::helpers::{Channel, TestApp, assert_ok, error_code, spawn_app};

const ASK: &str = "mutation($c: ID!, $t: String!) { askQuestion(input: { communityId: $c, title: $t, body: \"How do I run an oral exam online?\" }) { id status } }";
const FORWARD: &str = "mutation($q: ID!, $u: ID!, $hide: Boolean!) { forwardQuestion(input: { questionId: $q, serviceUnitId: $u, note: \"Please help\", hideAsker: $hide }) { status serviceUnit { slug } } }";
const ANSWER: &str = "mutation($q: ID!, $b: String!) { answerQuestion(input: { questionId: $q, body: $b }) { status answer answeredBy { email } } }";
const CLOSE: &str = "mutation($q: ID!, $d: ID) { closeQuestion(input: { questionId: $q, reason: \"Asked before\", duplicateOf: $d }) { status duplicateOf } }";
const READ: &str = "query($id: ID!) { question(id: $id) { status title asker { email } askerHidden forwardNote forwardedBy { email } answer answeredBy { email } serviceUnit { slug } responseTimes { toForwardSeconds toAnswerSeconds forwardToAnswerSeconds } } }";

async fn ask(app: &TestApp, ch: &Channel, who: &str, title: &str) -> String {
    let body = app
        .graphql(
            ASK,
            json!({ "c": ch.org("science"), "t": title }),
            ch.token(who),
        )
        .await;
    assert_ok(&body);
    assert_eq!(body["data"]["askQuestion"]["status"], "SUBMITTED");
    body["data"]["askQuestion"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn read(body: &Value) -> &Value {
    &body["data"]["question"]
}

#[tokio::test]
async fn a_staff_question_is_forwarded_anonymously_and_answered_by_the_service_unit() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let id = ask(&app, &ch, "science.staff", "Oral exams online").await;

    // The contact cannot see it before it is forwarded.
    let early = app
        .graphql(READ, json!({ "id": id }), ch.token("unit.contact"))
        .await;
    assert!(read(&early).is_null());

    let forwarded = app
        .graphql(
            FORWARD,
            json!({ "q": id, "u": ch.org("it-services"), "hide": true }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&forwarded);
    assert_eq!(
        forwarded["data"]["forwardQuestion"],
        json!({ "status": "FORWARDED", "serviceUnit": { "slug": "it-services" } })
    );

    let contact_view = app
        .graphql(READ, json!({ "id": id }), ch.token("unit.contact"))
        .await;
    assert!(
        read(&contact_view)["asker"].is_null(),
        "the asker must be hidden: {contact_view}"
    );
    assert_eq!(read(&contact_view)["askerHidden"], true);
    assert_eq!(read(&contact_view)["forwardNote"], "Please help");
    let mentor_view = app
        .graphql(READ, json!({ "id": id }), ch.token("science.mentor"))
        .await;
    assert_eq!(
        read(&mentor_view)["asker"]["email"],
        "science.staff@uni.test"
    );

    // Once forwarded, the unit answers; the mentor no longer can.
    let by_mentor = app
        .graphql(
            ANSWER,
            json!({ "q": id, "b": "I answer" }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&by_mentor).as_deref(), Some("FORBIDDEN"));
    let answered = app
        .graphql(
            ANSWER,
            json!({ "q": id, "b": "Use Zoom with the exam room add-on." }),
            ch.token("unit.contact"),
        )
        .await;
    assert_eq!(answered["data"]["answerQuestion"]["status"], "ANSWERED");

    let asker_view = app
        .graphql(READ, json!({ "id": id }), ch.token("science.staff"))
        .await;
    let q = read(&asker_view);
    assert_eq!(q["answer"], "Use Zoom with the exam room add-on.");
    assert_eq!(q["answeredBy"]["email"], "unit.contact@uni.test");
    assert_eq!(q["forwardedBy"]["email"], "science.mentor@uni.test");
    for field in [
        "toForwardSeconds",
        "toAnswerSeconds",
        "forwardToAnswerSeconds",
    ] {
        assert!(
            q["responseTimes"][field].as_i64().is_some_and(|s| s >= 0),
            "{field}: {q}"
        );
    }
    let again = app
        .graphql(
            ANSWER,
            json!({ "q": id, "b": "Twice" }),
            ch.token("unit.contact"),
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));
}

#[tokio::test]
async fn questions_are_visible_to_the_asker_their_mentors_and_the_unit_it_went_to() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let id = ask(&app, &ch, "science.staff", "Private question").await;
    app.graphql(
        FORWARD,
        json!({ "q": id, "u": ch.org("it-services"), "hide": false }),
        ch.token("science.mentor"),
    )
    .await;
    for (who, sees) in [
        ("science.staff", true),
        ("science.mentor", true),
        ("science.comentor", true),
        ("unit.contact", true),
        ("admin", true),
        ("science.staff2", false),
        ("arts.mentor", false),
        ("library.contact", false),
        ("lead", false),
    ] {
        let body = app.graphql(READ, json!({ "id": id }), ch.token(who)).await;
        assert_ok(&body);
        assert_eq!(!read(&body).is_null(), sees, "{who}");
        let list = app
            .graphql(
                "{ questions { edges { node { id } } } }",
                json!({}),
                ch.token(who),
            )
            .await;
        assert_eq!(
            list["data"]["questions"]["edges"].as_array().unwrap().len(),
            usize::from(sees),
            "{who}"
        );
    }
    // Not hidden: the unit sees who asked.
    let body = app
        .graphql(READ, json!({ "id": id }), ch.token("unit.contact"))
        .await;
    assert_eq!(read(&body)["asker"]["email"], "science.staff@uni.test");
    let visitor = app
        .graphql("{ questions { edges { node { id } } } }", json!({}), None)
        .await;
    assert_eq!(error_code(&visitor).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn mentors_answer_directly_or_close_duplicates() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let original = ask(&app, &ch, "science.staff", "Where is the Moodle guide?").await;
    let moodle = app
        .graphql("mutation { createTopic(input: { slug: \"moodle\", nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .clone();
    let tagged = app
        .graphql(
            "mutation($c: ID!, $t: ID!) { askQuestion(input: { communityId: $c, title: \"Tagged\", body: \"b\", topicIds: [$t, $t] }) { topics { slug } } }",
            json!({ "c": ch.org("science"), "t": moodle }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(
        tagged["data"]["askQuestion"]["topics"],
        json!([{ "slug": "moodle" }]),
        "a repeated topic is kept once"
    );
    let duplicate = ask(&app, &ch, "science.staff2", "Moodle guide?").await;

    let answered = app
        .graphql(
            ANSWER,
            json!({ "q": original, "b": "On the intranet." }),
            ch.token("science.comentor"),
        )
        .await;
    assert_eq!(
        answered["data"]["answerQuestion"]["answeredBy"]["email"],
        "science.comentor@uni.test"
    );
    let closed = app
        .graphql(
            CLOSE,
            json!({ "q": duplicate, "d": original }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(
        closed["data"]["closeQuestion"],
        json!({ "status": "CLOSED", "duplicateOf": original })
    );

    let third = ask(&app, &ch, "science.staff", "Third").await;
    let itself = app
        .graphql(
            CLOSE,
            json!({ "q": third, "d": third }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(itself["errors"][0]["extensions"]["field"], "duplicateOf");
    let arts_question = app
        .graphql(
            ASK,
            json!({ "c": ch.org("arts"), "t": "Arts" }),
            ch.token("arts.staff"),
        )
        .await;
    let other = arts_question["data"]["askQuestion"]["id"].as_str().unwrap();
    let across = app
        .graphql(
            CLOSE,
            json!({ "q": third, "d": other }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&across).as_deref(), Some("BAD_USER_INPUT"));
    let closed_again = app
        .graphql(
            CLOSE,
            json!({ "q": duplicate, "d": null }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&closed_again).as_deref(), Some("CONFLICT"));
}

#[tokio::test]
async fn question_input_is_validated() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let id = ask(&app, &ch, "science.staff", "Q").await;
    let cases = [
        (
            FORWARD,
            json!({ "q": id, "u": ch.org("arts"), "hide": false }),
            "serviceUnitId",
        ),
        (
            FORWARD,
            json!({ "q": id, "u": ch.org("management"), "hide": false }),
            "serviceUnitId",
        ),
        (
            FORWARD,
            json!({ "q": id, "u": uuid::Uuid::now_v7().to_string(), "hide": false }),
            "serviceUnitId",
        ),
        (ANSWER, json!({ "q": id, "b": " " }), "body"),
        (ASK, json!({ "c": ch.org("science"), "t": "" }), "title"),
        (
            ASK,
            json!({ "c": ch.org("it-services"), "t": "Wrong place" }),
            "communityId",
        ),
    ];
    for (mutation, vars, field) in cases {
        let body = app
            .graphql(mutation, vars.clone(), ch.token("science.mentor"))
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{vars}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{vars}");
    }
    let read = app
        .graphql(READ, json!({ "id": id }), ch.token("science.staff"))
        .await;
    assert_eq!(
        read["data"]["question"]["status"], "SUBMITTED",
        "refused input changed the question"
    );
    // Forwarding twice is a conflict.
    assert_ok(
        &app.graphql(
            FORWARD,
            json!({ "q": id, "u": ch.org("it-services"), "hide": false }),
            ch.token("science.mentor"),
        )
        .await,
    );
    let twice = app
        .graphql(
            FORWARD,
            json!({ "q": id, "u": ch.org("library"), "hide": false }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&twice).as_deref(), Some("CONFLICT"));
}

#[tokio::test]
async fn who_may_call_each_question_mutation() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let roles = [
        "visitor",
        "science.staff",
        "science.mentor",
        "arts.mentor",
        "unit.contact",
        "lead",
        "admin",
    ];
    for who in roles {
        let body = app
            .graphql(
                ASK,
                json!({ "c": ch.org("science"), "t": "Mine" }),
                ch.token(who),
            )
            .await;
        let expected = match who {
            "visitor" => Some("UNAUTHENTICATED"),
            "science.staff" | "science.mentor" => None,
            _ => Some("FORBIDDEN"),
        };
        assert_eq!(
            error_code(&body).as_deref(),
            expected,
            "askQuestion as {who}: {body}"
        );
    }
    for (name, mutation) in [("forward", FORWARD), ("answer", ANSWER), ("close", CLOSE)] {
        for who in roles {
            let id = ask(&app, &ch, "science.staff", "Triage me").await;
            let vars = json!({ "q": id, "u": ch.org("it-services"), "hide": false, "b": "Answer", "d": null });
            let body = app.graphql(mutation, vars, ch.token(who)).await;
            let expected = match who {
                "visitor" => Some("UNAUTHENTICATED"),
                "science.mentor" => None,
                // The asker and admins read the question but do not triage it.
                "science.staff" | "admin" => Some("FORBIDDEN"),
                _ => Some("NOT_FOUND"),
            };
            assert_eq!(
                error_code(&body).as_deref(),
                expected,
                "{name} as {who}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn the_question_list_filters_by_status_community_and_unit() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let first = ask(&app, &ch, "science.staff", "First").await;
    let second = ask(&app, &ch, "science.staff", "Second").await;
    app.graphql(
        FORWARD,
        json!({ "q": second, "u": ch.org("library"), "hide": false }),
        ch.token("science.mentor"),
    )
    .await;
    let list = "query($f: QuestionFilterInput) { questions(filter: $f) { edges { node { id } } } }";
    let ids = |body: &Value| -> Vec<String> {
        body["data"]["questions"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = app
        .graphql(list, json!({}), ch.token("science.mentor"))
        .await;
    assert_eq!(ids(&all), [second.as_str(), first.as_str()]);
    let submitted = app
        .graphql(
            list,
            json!({ "f": { "status": "SUBMITTED" } }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(ids(&submitted), [first.as_str()]);
    let to_library = app
        .graphql(
            list,
            json!({ "f": { "serviceUnitId": ch.org("library") } }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(ids(&to_library), [second.as_str()]);
    let arts = app
        .graphql(
            list,
            json!({ "f": { "communityId": ch.org("arts") } }),
            ch.token("admin"),
        )
        .await;
    assert_eq!(ids(&arts), Vec::<String>::new());
    let library = app
        .graphql(list, json!({}), ch.token("library.contact"))
        .await;
    assert_eq!(ids(&library), [second.as_str()]);
}

const ASK_KIND: &str = "mutation($c: ID!, $k: QuestionKind!) { askQuestion(input: { communityId: $c, title: \"Exam room calendar\", body: \"One calendar for every exam room, please.\", kind: $k }) { id kind decision } }";
const DECIDE: &str = "mutation($q: ID!, $d: Decision!, $r: String) { decideQuestion(input: { questionId: $q, decision: $d, reason: $r }) { status kind decision decisionReason decidedBy { email } decidedAt } }";

#[tokio::test]
async fn a_wish_goes_up_and_the_units_decision_comes_back_to_the_asker_and_the_mentors() {
    let sink = crate::smtp::SmtpSink::start().await;
    let url = sink.url();
    let app = crate::helpers::spawn_app_with(move |c| c.mail = crate::helpers::smtp(&url)).await;
    let ch = app.seed_channel().await;
    assert_ok(
        &app.graphql(
            "mutation { updateNotificationSettings(input: { locale: EN }) { locale } }",
            json!({}),
            ch.token("science.comentor"),
        )
        .await,
    );
    let asked = app
        .graphql(
            ASK_KIND,
            json!({ "c": ch.org("science"), "k": "WISH" }),
            ch.token("science.staff"),
        )
        .await;
    assert_ok(&asked);
    assert_eq!(asked["data"]["askQuestion"]["kind"], "WISH");
    assert!(asked["data"]["askQuestion"]["decision"].is_null());
    let wish = asked["data"]["askQuestion"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A plain question, forwarded too: it is answered, never decided.
    let question = ask(&app, &ch, "science.staff2", "Oral exams").await;
    for id in [&wish, &question] {
        let forwarded = app
            .graphql(
                FORWARD,
                json!({ "q": id, "u": ch.org("it-services"), "hide": false }),
                ch.token("science.mentor"),
            )
            .await;
        assert_ok(&forwarded);
    }
    app.drain_mail().await;
    // The mentors were told it is a wish, in their languages.
    let subjects: Vec<String> = sink
        .messages()
        .iter()
        .filter(|m| m.to[0].contains("mentor"))
        .map(|m| m.parsed().subject().unwrap_or_default().to_owned())
        .collect();
    assert!(
        subjects.contains(&"Exam room calendar – Digimentor-toive".to_owned()),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&"Exam room calendar – Digimentor wish".to_owned()),
        "{subjects:?}"
    );
    let forwarded_to_unit = sink
        .messages()
        .into_iter()
        .find(|m| {
            m.to[0].contains("unit.contact")
                && m.parsed()
                    .subject()
                    .unwrap_or_default()
                    .starts_with("Exam room")
        })
        .unwrap();
    let text = forwarded_to_unit.parsed().body_text(0).unwrap().to_string();
    assert!(text.contains("yksikköönne (it-services"), "{text}");
    assert!(text.contains("toiveen"), "{text}");
    let before = sink.messages().len();

    // Who may decide, and what: refused ones change nothing.
    for (who, id, decision, reason, code) in [
        ("visitor", &wish, "PLANNED", None, "UNAUTHENTICATED"),
        ("science.staff", &wish, "PLANNED", None, "FORBIDDEN"),
        ("science.mentor", &wish, "PLANNED", None, "FORBIDDEN"),
        ("library.contact", &wish, "PLANNED", None, "NOT_FOUND"),
        ("arts.mentor", &wish, "PLANNED", None, "NOT_FOUND"),
        ("unit.contact", &question, "DONE", None, "CONFLICT"),
        (
            "unit.contact",
            &wish,
            "NOT_POSSIBLE",
            None,
            "BAD_USER_INPUT",
        ),
        (
            "unit.contact",
            &wish,
            "NOT_POSSIBLE",
            Some("   "),
            "BAD_USER_INPUT",
        ),
    ] {
        let body = app
            .graphql(
                DECIDE,
                json!({ "q": id, "d": decision, "r": reason }),
                ch.token(who),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some(code), "{who}: {body}");
    }
    let unchanged = app
        .graphql(
            "query($id: ID!) { question(id: $id) { status decision } }",
            json!({ "id": wish }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(
        unchanged["data"]["question"],
        json!({ "status": "FORWARDED", "decision": null })
    );

    // Live: the asker hears of the decision, a mentor of another community does not.
    let only_decisions =
        "subscription { events(filter: { kinds: [\"question.decided\"] }) { kind subjectId } }";
    let mut asker =
        crate::helpers::WsClient::connect(&app, json!({ "token": ch.token("science.staff") }))
            .await
            .unwrap();
    asker.subscribe_ready("d", only_decisions, json!({})).await;
    let mut outsider =
        crate::helpers::WsClient::connect(&app, json!({ "token": ch.token("arts.mentor") }))
            .await
            .unwrap();
    outsider
        .subscribe_ready("d", only_decisions, json!({}))
        .await;
    let decided = app
        .graphql(
            DECIDE,
            json!({ "q": wish, "d": "PLANNED", "r": "It comes with the spring update." }),
            ch.token("unit.contact"),
        )
        .await;
    assert_ok(&decided);
    let decided = &decided["data"]["decideQuestion"];
    assert_eq!(decided["status"], "ANSWERED");
    assert_eq!(decided["decision"], "PLANNED");
    assert_eq!(
        decided["decisionReason"],
        "It comes with the spring update."
    );
    assert_eq!(decided["decidedBy"]["email"], "unit.contact@uni.test");
    assert_eq!(
        asker.next_data().await["events"],
        json!({ "kind": "question.decided", "subjectId": wish })
    );
    assert!(
        outsider
            .stays_quiet(std::time::Duration::from_millis(500))
            .await
    );
    app.drain_mail().await;
    let told: Vec<_> = sink.messages()[before..].to_vec();
    let mut to: Vec<&str> = told.iter().map(|m| m.to[0].as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        [
            "<science.comentor@uni.test>",
            "<science.mentor@uni.test>",
            "<science.staff@uni.test>"
        ],
        "the asker and every mentor of the community"
    );
    for message in &told {
        let parsed = message.parsed();
        let text = parsed.body_text(0).unwrap().to_string();
        if message.to[0].contains("comentor") {
            assert_eq!(
                parsed.subject(),
                Some("Re: Exam room calendar – Digimentor wish")
            );
            assert!(
                text.contains("recorded a decision on the wish “Exam room calendar”"),
                "{text}"
            );
            assert!(text.contains("**Planned**"), "{text}");
        } else {
            assert_eq!(
                parsed.subject(),
                Some("Re: Exam room calendar – Digimentor-toive")
            );
            assert!(
                text.contains("kirjasi päätöksen toiveesta ”Exam room calendar”"),
                "{text}"
            );
            assert!(text.contains("**Suunnitteilla**"), "{text}");
        }
        assert!(text.contains("It comes with the spring update."), "{text}");
        assert!(text.contains(&format!("/questions/{wish}")), "{text}");
    }

    // The decision can change; the asker and the mentors hear of it again.
    let changed = app
        .graphql(
            DECIDE,
            json!({ "q": wish, "d": "NOT_POSSIBLE", "r": "The licence does not allow it after all." }),
            ch.token("unit.contact"),
        )
        .await;
    assert_ok(&changed);
    app.drain_mail().await;
    assert_eq!(sink.messages().len(), before + 6);
    let last = sink
        .messages()
        .last()
        .unwrap()
        .parsed()
        .body_text(0)
        .unwrap()
        .to_string();
    assert!(
        last.contains("Ei mahdollista toteuttaa") || last.contains("Not possible"),
        "{last}"
    );

    // Lists filter by kind.
    let wishes = app
        .graphql(
            "{ questions(filter: { kind: WISH }) { nodes { id decision } } }",
            json!({}),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(
        wishes["data"]["questions"]["nodes"],
        json!([{ "id": wish, "decision": "NOT_POSSIBLE" }])
    );
}
