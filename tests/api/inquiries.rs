//! Inquiries end to end: drafts, publishing, answers per community, coverage, optimistic
//! concurrency, follow-up threads, visibility and live updates.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{WsClient, assert_ok, error_code, spawn_app, spawn_app_with};

const ANSWER: &str = "mutation($t: ID!, $b: String!, $v: Int!) { answerInquiry(input: { targetId: $t, body: $b, expectedVersion: $v }) { id status version answer answeredBy { email } } }";
const DECLINE: &str = "mutation($t: ID!, $r: String!, $v: Int!) { declineInquiry(input: { targetId: $t, reason: $r, expectedVersion: $v }) { id status version declineReason } }";
const INQUIRY: &str = "query($id: ID!) { inquiry(id: $id) { id status coverage { targets answered declined pending overdue summary } targets { id status version answer declineReason community { slug } answeredBy { email } previousVersions { version answer author { email } } messages { body organization { slug } author { email } } } } }";

fn slot<'a>(inquiry: &'a Value, community: &str) -> &'a Value {
    inquiry["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["community"]["slug"] == community)
        .unwrap_or_else(|| panic!("no slot for {community} in {inquiry}"))
}

fn visible_slots(inquiry: &Value) -> Vec<String> {
    let mut slugs: Vec<String> = inquiry["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["community"]["slug"].as_str().unwrap().to_owned())
        .collect();
    slugs.sort();
    slugs
}

#[tokio::test]
async fn management_asks_three_communities_and_follows_the_answers_live() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (id, slots) = app
        .published_inquiry(
            &ch,
            "Moodle exam practices",
            &["science", "arts", "medicine"],
        )
        .await;

    // The lead follows the inquiry live.
    let mut live = WsClient::connect(&app, json!({ "token": ch.token("lead") }))
        .await
        .unwrap();
    live.subscribe_ready("u", "subscription($id: ID!) { inquiryUpdated(id: $id) { coverage { answered declined pending } } }", json!({ "id": id })).await;

    let body = app
        .graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "We use Exam with Moodle quizzes.", "v": 0 }),
            ch.token("science.mentor"),
        )
        .await;
    assert_ok(&body);
    assert_eq!(body["data"]["answerInquiry"]["version"], 1);
    assert_eq!(
        live.next_data().await["inquiryUpdated"]["coverage"],
        json!({ "answered": 1, "declined": 0, "pending": 2 })
    );

    assert_ok(
        &app.graphql(
            ANSWER,
            json!({ "t": slots["arts"], "b": "Mostly essays.", "v": 0 }),
            ch.token("arts.mentor"),
        )
        .await,
    );
    assert_eq!(
        live.next_data().await["inquiryUpdated"]["coverage"]["answered"],
        2
    );
    assert_ok(
        &app.graphql(
            DECLINE,
            json!({ "t": slots["medicine"], "r": "No exams this term.", "v": 0 }),
            ch.token("medicine.mentor"),
        )
        .await,
    );
    assert_eq!(
        live.next_data().await["inquiryUpdated"]["coverage"],
        json!({ "answered": 2, "declined": 1, "pending": 0 })
    );

    let read = app
        .graphql(INQUIRY, json!({ "id": id }), ch.token("lead"))
        .await;
    let inquiry = &read["data"]["inquiry"];
    assert_eq!(
        inquiry["coverage"],
        json!({ "targets": 3, "answered": 2, "declined": 1, "pending": 0, "overdue": 0, "summary": "2 of 3 communities answered" })
    );
    assert_eq!(
        slot(inquiry, "science")["answeredBy"]["email"],
        "science.mentor@uni.test"
    );
    assert_eq!(
        slot(inquiry, "medicine")["declineReason"],
        "No exams this term."
    );

    // The first mentor edits (version 1 → 2); the co-mentor, still holding version 1, is refused
    // with a CONFLICT that names who changed it, and nothing is overwritten.
    assert_ok(&app.graphql(ANSWER, json!({ "t": slots["science"], "b": "We use Exam, and Moodle quizzes for practice.", "v": 1 }), ch.token("science.mentor")).await);
    let stale = app
        .graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "My version.", "v": 1 }),
            ch.token("science.comentor"),
        )
        .await;
    assert_eq!(error_code(&stale).as_deref(), Some("CONFLICT"), "{stale}");
    let message = stale["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("science mentor"),
        "the co-mentor is named: {message}"
    );
    assert_eq!(stale["errors"][0]["extensions"]["field"], "expectedVersion");
    let read = app
        .graphql(INQUIRY, json!({ "id": id }), ch.token("science.comentor"))
        .await;
    let science = slot(&read["data"]["inquiry"], "science");
    assert_eq!(
        science["answer"],
        "We use Exam, and Moodle quizzes for practice."
    );
    assert_eq!(science["version"], 2);
    // The earlier version is kept.
    assert_eq!(
        science["previousVersions"],
        json!([{ "version": 1, "answer": "We use Exam with Moodle quizzes.", "author": { "email": "science.mentor@uni.test" } }])
    );
    // With the fresh version the co-mentor's edit goes through.
    assert_ok(
        &app.graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "Merged answer.", "v": 2 }),
            ch.token("science.comentor"),
        )
        .await,
    );

    let closed = app
        .graphql(
            "mutation($id: ID!) { closeInquiry(id: $id) { status closedAt } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(closed["data"]["closeInquiry"]["status"], "CLOSED");
    let late = app
        .graphql(
            ANSWER,
            json!({ "t": slots["arts"], "b": "Late change.", "v": 1 }),
            ch.token("arts.mentor"),
        )
        .await;
    assert_eq!(error_code(&late).as_deref(), Some("CONFLICT"), "{late}");
    let late_decline = app
        .graphql(
            DECLINE,
            json!({ "t": slots["arts"], "r": "Late.", "v": 1 }),
            ch.token("arts.mentor"),
        )
        .await;
    assert_eq!(error_code(&late_decline).as_deref(), Some("CONFLICT"));
}

#[tokio::test]
async fn drafts_are_seen_only_by_the_inquiring_organization() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let created = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!) { createInquiry(input: { organizationId: $o, title: \"Draft\", body: \"b\", communityIds: $c }) { id status } }",
            json!({ "o": ch.org("it-services"), "c": [ch.org("science")] }),
            ch.token("unit.contact"),
        )
        .await;
    assert_eq!(created["data"]["createInquiry"]["status"], "DRAFT");
    let id = created["data"]["createInquiry"]["id"].as_str().unwrap();
    for (who, sees) in [
        ("unit.contact", true),
        ("admin", true),
        ("lead", false),
        ("library.contact", false),
        ("science.mentor", false),
        ("science.staff", false),
    ] {
        let body = app
            .graphql(
                "query($id: ID!) { inquiry(id: $id) { id } }",
                json!({ "id": id }),
                ch.token(who),
            )
            .await;
        assert_ok(&body);
        assert_eq!(!body["data"]["inquiry"].is_null(), sees, "{who}");
        let list = app
            .graphql(
                "{ inquiries { edges { node { id } } } }",
                json!({}),
                ch.token(who),
            )
            .await;
        assert_eq!(
            list["data"]["inquiries"]["edges"].as_array().unwrap().len(),
            usize::from(sees),
            "{who}"
        );
    }
    // Nobody outside the unit can publish it, and the science mentor cannot answer a draft.
    let body = app
        .graphql(
            "mutation($id: ID!) { publishInquiry(id: $id) { id } }",
            json!({ "id": id }),
            ch.token("library.contact"),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
    let body = app
        .graphql(
            "mutation($id: ID!) { publishInquiry(id: $id) { status } }",
            json!({ "id": id }),
            ch.token("unit.contact"),
        )
        .await;
    assert_eq!(body["data"]["publishInquiry"]["status"], "OPEN");
    let again = app
        .graphql(
            "mutation($id: ID!) { publishInquiry(id: $id) { status } }",
            json!({ "id": id }),
            ch.token("unit.contact"),
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("CONFLICT"));
}

#[tokio::test]
async fn each_community_sees_its_own_slot_until_the_inquiry_closes() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (id, slots) = app
        .published_inquiry(&ch, "AI guidelines", &["science", "arts"])
        .await;
    assert_ok(
        &app.graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "Science view", "v": 0 }),
            ch.token("science.mentor"),
        )
        .await,
    );
    assert_ok(
        &app.graphql(
            ANSWER,
            json!({ "t": slots["arts"], "b": "Arts view", "v": 0 }),
            ch.token("arts.mentor"),
        )
        .await,
    );

    let open_view = [
        ("lead", vec!["arts", "science"]),
        ("admin", vec!["arts", "science"]),
        ("science.mentor", vec!["science"]),
        ("science.staff", vec!["science"]),
        ("arts.staff", vec!["arts"]),
    ];
    for (who, expected) in &open_view {
        let body = app
            .graphql(INQUIRY, json!({ "id": id }), ch.token(who))
            .await;
        assert_eq!(visible_slots(&body["data"]["inquiry"]), *expected, "{who}");
        // Coverage counts every community, whatever the caller may read.
        assert_eq!(body["data"]["inquiry"]["coverage"]["targets"], 2, "{who}");
    }
    // Not addressed: medicine, another service unit and visitors see nothing.
    for who in ["medicine.mentor", "library.contact"] {
        let body = app
            .graphql(INQUIRY, json!({ "id": id }), ch.token(who))
            .await;
        assert!(body["data"]["inquiry"].is_null(), "{who}: {body}");
    }
    let body = app.graphql(INQUIRY, json!({ "id": id }), None).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));

    app.graphql(
        "mutation($id: ID!) { closeInquiry(id: $id) { id } }",
        json!({ "id": id }),
        ch.token("lead"),
    )
    .await;
    let body = app
        .graphql(INQUIRY, json!({ "id": id }), ch.token("science.staff"))
        .await;
    assert_eq!(visible_slots(&body["data"]["inquiry"]), ["arts", "science"]);
}

#[tokio::test]
async fn shared_answers_are_visible_to_every_addressed_community_while_open() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let created = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!) { createInquiry(input: { organizationId: $o, title: \"Shared\", body: \"b\", communityIds: $c, shareAnswers: true }) { id } }",
            json!({ "o": ch.org("management"), "c": [ch.org("science"), ch.org("arts")] }),
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
    let body = app
        .graphql(INQUIRY, json!({ "id": id }), ch.token("arts.staff"))
        .await;
    assert_eq!(visible_slots(&body["data"]["inquiry"]), ["arts", "science"]);
}

#[tokio::test]
async fn the_follow_up_thread_is_between_the_inquirer_and_the_communitys_mentors() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (id, slots) = app
        .published_inquiry(&ch, "Thread", &["science", "arts"])
        .await;
    let post = "mutation($t: ID!, $b: String!) { postInquiryMessage(input: { targetId: $t, body: $b }) { id organization { slug } } }";

    let from_lead = app
        .graphql(
            post,
            json!({ "t": slots["science"], "b": "Could you add numbers?" }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(
        from_lead["data"]["postInquiryMessage"]["organization"]["slug"],
        "management"
    );
    let from_mentor = app
        .graphql(
            post,
            json!({ "t": slots["science"], "b": "About 40 courses." }),
            ch.token("science.comentor"),
        )
        .await;
    assert_eq!(
        from_mentor["data"]["postInquiryMessage"]["organization"]["slug"],
        "science"
    );

    for (who, code) in [
        ("science.staff", "FORBIDDEN"),
        ("arts.mentor", "NOT_FOUND"),
        ("library.contact", "NOT_FOUND"),
    ] {
        let body = app
            .graphql(
                post,
                json!({ "t": slots["science"], "b": "Me too" }),
                ch.token(who),
            )
            .await;
        let expected = if who == "arts.mentor" {
            "FORBIDDEN"
        } else {
            code
        };
        assert_eq!(
            error_code(&body).as_deref(),
            Some(expected),
            "{who}: {body}"
        );
    }
    let body = app
        .graphql(
            post,
            json!({ "t": slots["science"], "b": "   " }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));

    let thread = |body: &Value| -> Vec<String> {
        slot(&body["data"]["inquiry"], "science")["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    let lead_view = app
        .graphql(INQUIRY, json!({ "id": id }), ch.token("lead"))
        .await;
    assert_eq!(
        thread(&lead_view),
        ["Could you add numbers?", "About 40 courses."]
    );
    let mentor_view = app
        .graphql(INQUIRY, json!({ "id": id }), ch.token("science.mentor"))
        .await;
    assert_eq!(thread(&mentor_view).len(), 2);
    let staff_view = app
        .graphql(INQUIRY, json!({ "id": id }), ch.token("science.staff"))
        .await;
    assert!(
        thread(&staff_view).is_empty(),
        "staff do not read the mentors' thread"
    );
}

#[tokio::test]
async fn inquiry_input_is_validated_and_refused_input_writes_nothing() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let create = "mutation($o: ID!, $t: String!, $c: [ID!]!, $d: DateTime, $all: Boolean!) { createInquiry(input: { organizationId: $o, title: $t, body: \"b\", communityIds: $c, deadline: $d, allCommunities: $all }) { id } }";
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let cases = [
        (
            json!({ "o": ch.org("management"), "t": "  ", "c": [ch.org("science")], "d": tomorrow, "all": false }),
            "title",
        ),
        (
            json!({ "o": ch.org("management"), "t": "T", "c": [uuid::Uuid::now_v7().to_string()], "d": tomorrow, "all": false }),
            "communityIds",
        ),
        (
            json!({ "o": ch.org("management"), "t": "T", "c": [ch.org("it-services")], "d": tomorrow, "all": false }),
            "communityIds",
        ),
        (
            json!({ "o": ch.org("management"), "t": "T", "c": [], "d": tomorrow, "all": false }),
            "communityIds",
        ),
        (
            json!({ "o": ch.org("management"), "t": "T", "c": [ch.org("science")], "d": tomorrow, "all": true }),
            "communityIds",
        ),
        (
            json!({ "o": ch.org("management"), "t": "T", "c": [ch.org("science")], "d": yesterday, "all": false }),
            "deadline",
        ),
        (
            json!({ "o": ch.org("science"), "t": "T", "c": [ch.org("arts")], "d": tomorrow, "all": false }),
            "organizationId",
        ),
        (
            json!({ "o": "nope", "t": "T", "c": [ch.org("arts")], "d": tomorrow, "all": false }),
            "organizationId",
        ),
    ];
    for (vars, field) in cases {
        let body = app.graphql(create, vars.clone(), ch.token("lead")).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{vars}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{vars}");
    }
    let list = app
        .graphql(
            "{ inquiries { edges { node { id } } } }",
            json!({}),
            ch.token("admin"),
        )
        .await;
    assert_eq!(list["data"]["inquiries"]["edges"], json!([]));

    // Addressing all communities makes one slot per community.
    let all = app.graphql(create, json!({ "o": ch.org("management"), "t": "Everyone", "c": [], "d": tomorrow, "all": true }), ch.token("lead")).await;
    let id = all["data"]["createInquiry"]["id"].as_str().unwrap();
    let read = app
        .graphql(
            "query($id: ID!) { inquiry(id: $id) { allCommunities coverage { targets } } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(
        read["data"]["inquiry"],
        json!({ "allCommunities": true, "coverage": { "targets": 3 } })
    );

    // Answering for another community, or a slot one cannot see.
    let (_, slots) = app
        .published_inquiry(&ch, "Slots", &["science", "arts"])
        .await;
    let body = app
        .graphql(
            ANSWER,
            json!({ "t": slots["arts"], "b": "Not mine", "v": 0 }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = app
        .graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "Staff try", "v": 0 }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    let body = app
        .graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "", "v": 0 }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn who_may_call_each_inquiry_mutation() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let roles = [
        "visitor",
        "science.staff",
        "science.mentor",
        "unit.contact",
        "lead",
        "admin",
    ];
    let create = "mutation($o: ID!, $c: [ID!]!) { createInquiry(input: { organizationId: $o, title: \"T\", body: \"b\", communityIds: $c }) { id } }";
    // Posting for management: only its lead.
    for who in roles {
        let body = app
            .graphql(
                create,
                json!({ "o": ch.org("management"), "c": [ch.org("science")] }),
                ch.token(who),
            )
            .await;
        let expected = match who {
            "visitor" => Some("UNAUTHENTICATED"),
            "lead" => None,
            _ => Some("FORBIDDEN"),
        };
        assert_eq!(
            error_code(&body).as_deref(),
            expected,
            "createInquiry as {who}: {body}"
        );
    }
    // Publishing and closing: the inquiring organization (and admins).
    for (mutation, setup_published) in [("publishInquiry", false), ("closeInquiry", true)] {
        for who in roles {
            let created = app
                .graphql(
                    create,
                    json!({ "o": ch.org("management"), "c": [ch.org("science")] }),
                    ch.token("lead"),
                )
                .await;
            let id = created["data"]["createInquiry"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            if setup_published {
                app.graphql(
                    "mutation($id: ID!) { publishInquiry(id: $id) { id } }",
                    json!({ "id": id }),
                    ch.token("lead"),
                )
                .await;
            }
            let body = app
                .graphql(
                    &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}"),
                    json!({ "id": id }),
                    ch.token(who),
                )
                .await;
            let expected = match (who, setup_published) {
                ("visitor", _) => Some("UNAUTHENTICATED"),
                ("lead" | "admin", _) => None,
                // A draft does not exist for those outside management, nor does an inquiry
                // addressed elsewhere for another unit.
                ("science.staff" | "science.mentor", false) | ("unit.contact", _) => {
                    Some("NOT_FOUND")
                }
                _ => Some("FORBIDDEN"),
            };
            assert_eq!(
                error_code(&body).as_deref(),
                expected,
                "{mutation} as {who}: {body}"
            );
        }
    }
    // Answering and declining: the community's mentors only — not even admins answer for it.
    for mutation in [ANSWER, DECLINE] {
        for who in roles {
            let (_, slots) = app
                .published_inquiry(&ch, "Who answers", &["science"])
                .await;
            let vars = json!({ "t": slots["science"], "b": "x", "r": "x", "v": 0 });
            let body = app.graphql(mutation, vars, ch.token(who)).await;
            let expected = match who {
                "visitor" => Some("UNAUTHENTICATED"),
                "science.mentor" => None,
                "unit.contact" => Some("NOT_FOUND"),
                _ => Some("FORBIDDEN"),
            };
            assert_eq!(error_code(&body).as_deref(), expected, "as {who}: {body}");
        }
    }
}

#[tokio::test]
async fn the_inquiry_list_filters_and_pages() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (first_id, first_slots) = app.published_inquiry(&ch, "One", &["science"]).await;
    let (second_id, _) = app
        .published_inquiry(&ch, "Two", &["science", "arts"])
        .await;
    let (third_id, _) = app.published_inquiry(&ch, "Three", &["arts"]).await;
    app.graphql(
        "mutation($id: ID!) { closeInquiry(id: $id) { id } }",
        json!({ "id": third_id }),
        ch.token("lead"),
    )
    .await;
    assert_ok(
        &app.graphql(
            ANSWER,
            json!({ "t": first_slots["science"], "b": "done", "v": 0 }),
            ch.token("science.mentor"),
        )
        .await,
    );

    let ids = |body: &Value| -> Vec<String> {
        body["data"]["inquiries"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = "query($f: InquiryFilterInput, $first: Int, $after: String) { inquiries(filter: $f, first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    // Newest first.
    let all = app.graphql(list, json!({}), ch.token("lead")).await;
    assert_eq!(
        ids(&all),
        [third_id.clone(), second_id.clone(), first_id.clone()]
    );
    let waiting = app
        .graphql(
            list,
            json!({ "f": { "waitingForMyCommunity": true } }),
            ch.token("science.mentor"),
        )
        .await;
    assert_eq!(ids(&waiting), [second_id.as_str()]);
    let closed = app
        .graphql(
            list,
            json!({ "f": { "status": "CLOSED" } }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(ids(&closed), [third_id.as_str()]);
    let science_staff = app
        .graphql(list, json!({}), ch.token("science.staff"))
        .await;
    assert_eq!(ids(&science_staff), [second_id.as_str(), first_id.as_str()]);
    let by_org = app
        .graphql(
            list,
            json!({ "f": { "organizationId": ch.org("it-services") } }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(ids(&by_org), Vec::<String>::new());

    let page1 = app
        .graphql(list, json!({ "first": 2 }), ch.token("lead"))
        .await;
    assert_eq!(ids(&page1), [third_id.as_str(), second_id.as_str()]);
    assert_eq!(page1["data"]["inquiries"]["pageInfo"]["hasNextPage"], true);
    let cursor = page1["data"]["inquiries"]["pageInfo"]["endCursor"].clone();
    let page2 = app
        .graphql(
            list,
            json!({ "first": 2, "after": cursor }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(ids(&page2), [first_id.as_str()]);
    assert_eq!(page2["data"]["inquiries"]["pageInfo"]["hasNextPage"], false);
    let too_many = app
        .graphql(list, json!({ "first": 1_000_000 }), ch.token("lead"))
        .await;
    assert_eq!(error_code(&too_many).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn a_topic_filter_finds_inquiries_by_theme() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let topic = app
        .graphql("mutation { createTopic(input: { slug: \"moodle\", nameFi: \"Moodle\", nameSv: \"Moodle\", nameEn: \"Moodle\" }) { id } }", json!({}), ch.token("admin"))
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = "mutation($o: ID!, $c: [ID!]!, $topics: [ID!]!) { createInquiry(input: { organizationId: $o, title: \"T\", body: \"b\", communityIds: $c, topicIds: $topics }) { id topics { slug } } }";
    let tagged = app
        .graphql(
            create,
            json!({ "o": ch.org("management"), "c": [ch.org("science")], "topics": [topic] }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(
        tagged["data"]["createInquiry"]["topics"],
        json!([{ "slug": "moodle" }])
    );
    app.graphql(
        create,
        json!({ "o": ch.org("management"), "c": [ch.org("science")], "topics": [] }),
        ch.token("lead"),
    )
    .await;
    let body = app
        .graphql(
            "query($t: ID!) { inquiries(filter: { topicId: $t }) { edges { node { id } } } }",
            json!({ "t": topic }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(
        body["data"]["inquiries"]["edges"].as_array().unwrap().len(),
        1
    );
    let unknown = app.graphql(create, json!({ "o": ch.org("management"), "c": [ch.org("science")], "topics": [uuid::Uuid::now_v7().to_string()] }), ch.token("lead")).await;
    assert_eq!(unknown["errors"][0]["extensions"]["field"], "topicIds");
}

#[tokio::test]
async fn a_nested_inquiry_list_costs_the_same_number_of_statements_at_any_length() {
    // Every nested list at once, 100 inquiries deep: far past the default complexity limit
    // (which refuses it, as it should), so the limit is raised to measure the statements.
    let app = spawn_app_with(|c| c.graphql.max_complexity = 1_000_000).await;
    let ch = app.seed_channel().await;
    let query = "{ inquiries(first: 100) { edges { node { title organization { slug } author { email } topics { slug } coverage { summary } targets { status community { slug name } answeredBy { displayName } previousVersions { version } messages { body author { email } } } } } } }";
    let mut counts = Vec::new();
    for total in [5usize, 20] {
        while app
            .graphql(
                "{ inquiries(first: 100) { edges { cursor } } }",
                json!({}),
                ch.token("lead"),
            )
            .await["data"]["inquiries"]["edges"]
            .as_array()
            .unwrap()
            .len()
            < total
        {
            let (_, slots) = app
                .published_inquiry(&ch, "Load", &["science", "arts", "medicine"])
                .await;
            app.graphql(
                ANSWER,
                json!({ "t": slots["science"], "b": "a", "v": 0 }),
                ch.token("science.mentor"),
            )
            .await;
        }
        let before = app.state.statements.get();
        let body = app.graphql(query, json!({}), ch.token("lead")).await;
        assert_ok(&body);
        assert_eq!(
            body["data"]["inquiries"]["edges"].as_array().unwrap().len(),
            total
        );
        counts.push(app.state.statements.get() - before);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 5 vs 20 inquiries: {counts:?}"
    );
    assert!(
        counts[0] <= 12,
        "too many statements for one page: {counts:?}"
    );
}

#[tokio::test]
async fn subscribers_never_see_another_communitys_slot() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let mut arts = WsClient::connect(&app, json!({ "token": ch.token("arts.staff") }))
        .await
        .unwrap();
    arts.subscribe(
        "e",
        "subscription { events { kind organizationIds } }",
        json!({}),
    )
    .await;
    let mut science = WsClient::connect(&app, json!({ "token": ch.token("science.staff") }))
        .await
        .unwrap();
    science
        .subscribe_ready(
            "e",
            "subscription { events { kind organizationIds } }",
            json!({}),
        )
        .await;

    let (_, slots) = app
        .published_inquiry(&ch, "Private slots", &["science", "arts"])
        .await;
    assert_eq!(
        arts.next_data().await["events"]["kind"],
        "inquiry.published"
    );
    assert_eq!(
        science.next_data().await["events"]["kind"],
        "inquiry.published"
    );

    assert_ok(
        &app.graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "Ours", "v": 0 }),
            ch.token("science.mentor"),
        )
        .await,
    );
    let seen = science.next_data().await;
    assert_eq!(seen["events"]["kind"], "inquiry.answered");
    assert!(
        arts.stays_quiet(Duration::from_millis(400)).await,
        "arts saw science's slot"
    );

    // A visitor's connection sees no inquiry events at all.
    let mut visitor = WsClient::connect(&app, json!({})).await.unwrap();
    visitor
        .subscribe_ready("e", "subscription { events { kind } }", json!({}))
        .await;
    app.published_inquiry(&ch, "Not public", &["science"]).await;
    assert!(visitor.stays_quiet(Duration::from_millis(400)).await);
}

#[tokio::test]
async fn a_refused_answer_leaves_no_event_and_no_change() {
    use entity::event;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (_, slots) = app.published_inquiry(&ch, "Atomic", &["science"]).await;
    assert_ok(
        &app.graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "v1", "v": 0 }),
            ch.token("science.mentor"),
        )
        .await,
    );
    let before = event::Entity::find().count(&app.state.db).await.unwrap();
    let stale = app
        .graphql(
            ANSWER,
            json!({ "t": slots["science"], "b": "stale", "v": 0 }),
            ch.token("science.comentor"),
        )
        .await;
    assert_eq!(error_code(&stale).as_deref(), Some("CONFLICT"));
    assert_eq!(
        event::Entity::find().count(&app.state.db).await.unwrap(),
        before
    );
    let revisions = entity::inquiry_answer_revision::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(revisions, 0, "a refused write kept a revision");
}

#[tokio::test]
async fn inquiry_updated_requires_read_access() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (id, _) = app.published_inquiry(&ch, "Subscribed", &["science"]).await;
    let mut outsider = WsClient::connect(&app, json!({ "token": ch.token("arts.mentor") }))
        .await
        .unwrap();
    outsider
        .subscribe(
            "u",
            "subscription($id: ID!) { inquiryUpdated(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    let error = outsider.next_error().await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");
}

/// A draft is edited by its organization before publishing: new text, topics and communities
/// (its slots made again); another organization, a published inquiry and a move to another
/// organization are refused with the API's codes.
#[tokio::test]
async fn a_draft_is_edited_before_it_is_published_and_never_after() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let created = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!) { createInquiry(input: { organizationId: $o, title: \"Draft\", body: \"First words\", communityIds: $c }) { id } }",
            json!({ "o": ch.org("management"), "c": [ch.org("science")] }),
            ch.token("lead"),
        )
        .await;
    assert_ok(&created);
    let id = created["data"]["createInquiry"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    const UPDATE: &str = "mutation($id: ID!, $o: ID!, $c: [ID!]!, $t: String!) { updateInquiry(id: $id, input: { organizationId: $o, title: $t, body: \"Better words\", communityIds: $c }) { title body status targets { community { slug } } } }";
    let edited = app
        .graphql(
            UPDATE,
            json!({ "id": id, "o": ch.org("management"), "c": [ch.org("arts"), ch.org("medicine")], "t": "Edited" }),
            ch.token("lead"),
        )
        .await;
    assert_ok(&edited);
    let inquiry = &edited["data"]["updateInquiry"];
    assert_eq!(inquiry["title"], "Edited");
    assert_eq!(inquiry["body"], "Better words");
    assert_eq!(inquiry["status"], "DRAFT");
    let mut slugs: Vec<&str> = inquiry["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["community"]["slug"].as_str().unwrap())
        .collect();
    slugs.sort_unstable();
    assert_eq!(slugs, ["arts", "medicine"]);

    let other = app
        .graphql(
            UPDATE,
            json!({ "id": id, "o": ch.org("management"), "c": [ch.org("arts")], "t": "Mine" }),
            ch.token("unit.contact"),
        )
        .await;
    assert!(
        matches!(
            error_code(&other).as_deref(),
            Some("FORBIDDEN" | "NOT_FOUND")
        ),
        "{other}"
    );
    let moved = app
        .graphql(
            UPDATE,
            json!({ "id": id, "o": ch.org("it-services"), "c": [ch.org("arts")], "t": "Moved" }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(error_code(&moved).as_deref(), Some("BAD_USER_INPUT"));
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { publishInquiry(id: $id) { id } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await,
    );
    let late = app
        .graphql(
            UPDATE,
            json!({ "id": id, "o": ch.org("management"), "c": [ch.org("arts")], "t": "Late" }),
            ch.token("lead"),
        )
        .await;
    assert_eq!(error_code(&late).as_deref(), Some("CONFLICT"));
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let logged = entity::event::Entity::find()
        .filter(entity::event::Column::Kind.eq("inquiry.draft_updated"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(logged, 1, "the edit is an event in the log");
}

/// The same creating request sent again with its idempotency key (a double press, a retry)
/// makes one thing, also when five arrive at once; keys are each person's own, and a malformed
/// key is refused.
#[tokio::test]
async fn a_request_sent_twice_with_its_key_makes_one_thing() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    const CREATE: &str = "mutation($o: ID!, $c: [ID!]!, $k: String) { createInquiry(input: { organizationId: $o, title: \"Once\", body: \"b\", communityIds: $c }, idempotencyKey: $k) { id } }";
    let vars = |key: &str| json!({ "o": ch.org("management"), "c": [ch.org("science")], "k": key });
    let requests = (0..5).map(|_| app.graphql(CREATE, vars("press-1"), ch.token("lead")));
    let answers = futures_util::future::join_all(requests).await;
    let mut ids = std::collections::BTreeSet::new();
    for answer in &answers {
        match error_code(answer).as_deref() {
            None => {
                ids.insert(
                    answer["data"]["createInquiry"]["id"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            // The one in flight beside another: sent again, it gets the first's.
            Some("CONFLICT") => {
                assert_eq!(answer["errors"][0]["extensions"]["field"], "idempotencyKey");
                let again = app.graphql(CREATE, vars("press-1"), ch.token("lead")).await;
                assert_ok(&again);
                ids.insert(
                    again["data"]["createInquiry"]["id"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            other => panic!("{other:?}: {answer}"),
        }
    }
    assert_eq!(ids.len(), 1, "one inquiry: {answers:?}");
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::inquiry::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );

    // Another key, another inquiry; another person's same key is theirs.
    let second = app.graphql(CREATE, vars("press-2"), ch.token("lead")).await;
    assert_ok(&second);
    assert!(!ids.contains(second["data"]["createInquiry"]["id"].as_str().unwrap()));
    const ASK: &str = "mutation($c: ID!, $k: String) { askQuestion(input: { communityId: $c, title: \"Once\", body: \"b\" }, idempotencyKey: $k) { id } }";
    let mine = app
        .graphql(
            ASK,
            json!({ "c": ch.org("science"), "k": "press-1" }),
            ch.token("science.staff"),
        )
        .await;
    let theirs = app
        .graphql(
            ASK,
            json!({ "c": ch.org("science"), "k": "press-1" }),
            ch.token("science.staff2"),
        )
        .await;
    let again = app
        .graphql(
            ASK,
            json!({ "c": ch.org("science"), "k": "press-1" }),
            ch.token("science.staff"),
        )
        .await;
    assert_ne!(
        mine["data"]["askQuestion"]["id"],
        theirs["data"]["askQuestion"]["id"]
    );
    assert_eq!(
        mine["data"]["askQuestion"]["id"],
        again["data"]["askQuestion"]["id"]
    );
    for bad in ["", "has space", &"k".repeat(65)] {
        let refused = app
            .graphql(
                ASK,
                json!({ "c": ch.org("science"), "k": bad }),
                ch.token("science.staff"),
            )
            .await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some("BAD_USER_INPUT"),
            "{bad:?}"
        );
    }
}

/// The page the bench measures, with the coverage that reads the same slots.
const SLOT_PAGE: &str = "{ inquiries(first: 50) { edges { node { id title coverage { summary } targets { id status community { slug name } answeredBy { displayName email } } } } } }";

#[tokio::test]
async fn a_page_of_inquiries_costs_three_statements_alone_and_under_load_and_reads_what_is_stored()
{
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    for n in 0..6 {
        let (_, slots) = app
            .published_inquiry(&ch, &format!("Load {n}"), &["science", "arts", "medicine"])
            .await;
        if n % 2 == 0 {
            assert_ok(
                &app.graphql(
                    ANSWER,
                    json!({ "t": slots["science"], "b": "a", "v": 0 }),
                    ch.token("science.mentor"),
                )
                .await,
            );
        }
        if n % 3 == 0 {
            assert_ok(
                &app.graphql(
                    DECLINE,
                    json!({ "t": slots["arts"], "r": "no time", "v": 0 }),
                    ch.token("arts.mentor"),
                )
                .await,
            );
        }
    }
    for who in ["lead", "science.mentor", "arts.staff", "admin"] {
        // Alone: the token with its memberships, the page, the slots with their communities
        // and answerers.
        let before = app.quiet_statements().await;
        let page = app.graphql(SLOT_PAGE, json!({}), ch.token(who)).await;
        assert_ok(&page);
        assert_eq!(app.state.statements.get() - before, 3, "{who}, alone");
        let nodes = page["data"]["inquiries"]["edges"].as_array().unwrap();
        assert_eq!(nodes.len(), 6, "{who}");
        // What the page read at once is what the database holds.
        for edge in nodes {
            let node = &edge["node"];
            let id: uuid::Uuid = node["id"].as_str().unwrap().parse().unwrap();
            let stored = entity::inquiry_target::Entity::find()
                .filter(entity::inquiry_target::Column::InquiryId.eq(id))
                .all(&app.state.db)
                .await
                .unwrap();
            let answered = stored
                .iter()
                .filter(|t| t.status == entity::inquiry_target::TargetStatus::Answered)
                .count();
            assert_eq!(
                node["coverage"]["summary"],
                format!("{answered} of {} communities answered", stored.len())
            );
            for target in node["targets"].as_array().unwrap() {
                let slot = stored
                    .iter()
                    .find(|t| t.id.to_string() == target["id"].as_str().unwrap())
                    .unwrap();
                let community = entity::organization::Entity::find_by_id(slot.community_id)
                    .one(&app.state.db)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(target["community"]["slug"], community.slug);
                assert_eq!(target["community"]["name"], community.name_fi);
                match slot.answered_by {
                    Some(user) => {
                        let user = entity::user::Entity::find_by_id(user)
                            .one(&app.state.db)
                            .await
                            .unwrap()
                            .unwrap();
                        assert_eq!(target["answeredBy"]["email"], user.email);
                        assert_eq!(target["answeredBy"]["displayName"], user.display_name);
                    }
                    None => assert!(target["answeredBy"].is_null()),
                }
            }
        }
        let seen: Vec<&str> = nodes
            .iter()
            .flat_map(|e| e["node"]["targets"].as_array().unwrap())
            .map(|t| t["community"]["slug"].as_str().unwrap())
            .collect();
        match who {
            "science.mentor" => assert!(seen.iter().all(|s| *s == "science"), "{seen:?}"),
            "arts.staff" => assert!(seen.iter().all(|s| *s == "arts"), "{seen:?}"),
            _ => assert_eq!(seen.len(), 18, "{who}"),
        }
        let answered: Vec<&Value> = nodes
            .iter()
            .flat_map(|e| e["node"]["targets"].as_array().unwrap())
            .filter(|t| t["status"] == "ANSWERED")
            .collect();
        if who != "arts.staff" {
            assert_eq!(answered.len(), 3, "{who}");
            assert!(
                answered
                    .iter()
                    .all(|t| t["answeredBy"]["email"] == "science.mentor@uni.test")
            );
        }
    }
    // Under load: 32 clients at once cost 32 times one.
    let before = app.quiet_statements().await;
    let pages = futures_util::future::join_all(
        (0..32).map(|_| app.graphql(SLOT_PAGE, json!({}), ch.token("lead"))),
    )
    .await;
    pages.iter().for_each(assert_ok);
    assert_eq!(app.state.statements.get() - before, 32 * 3, "under load");
    // Without slots in the selection, none are read.
    let before = app.quiet_statements().await;
    assert_ok(
        &app.graphql(
            "{ inquiries(first: 50) { edges { node { id title } } } }",
            json!({}),
            ch.token("lead"),
        )
        .await,
    );
    assert_eq!(app.state.statements.get() - before, 2, "no slots asked");
}

#[tokio::test]
async fn one_inquiry_by_id_costs_one_statement_after_the_token_and_reads_slots_only_when_asked() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let (id, _) = app.published_inquiry(&ch, "By id", &["science"]).await;
    let draft = app
        .graphql(
            "mutation($o: ID!, $c: [ID!]!) { createInquiry(input: { organizationId: $o, title: \"Draft\", body: \"b\", communityIds: $c }) { id } }",
            json!({ "o": ch.org("management"), "c": [ch.org("science")] }),
            ch.token("lead"),
        )
        .await;
    assert_ok(&draft);
    let draft = draft["data"]["createInquiry"]["id"].clone();
    let by_id = "query($id: ID!) { inquiry(id: $id) { id title body status deadline } }";
    // Readable through an addressed community (the rule needs the slots), through the
    // inquiring organization, as an admin; not readable: another community, a draft.
    for (who, inquiry, readable) in [
        ("science.staff", json!(id), true),
        ("lead", json!(id), true),
        ("admin", json!(id), true),
        ("arts.staff", json!(id), false),
        ("science.staff", draft.clone(), false),
        ("lead", draft.clone(), true),
    ] {
        let before = app.quiet_statements().await;
        let body = app
            .graphql(by_id, json!({ "id": inquiry }), ch.token(who))
            .await;
        assert_ok(&body);
        assert_eq!(
            body["data"]["inquiry"].is_object(),
            readable,
            "{who}: {body}"
        );
        assert_eq!(app.state.statements.get() - before, 2, "{who}");
    }
    let before = app.quiet_statements().await;
    let body = app
        .graphql(
            "query($id: ID!) { inquiry(id: $id) { targets { status } } }",
            json!({ "id": id }),
            ch.token("science.staff"),
        )
        .await;
    assert_eq!(body["data"]["inquiry"]["targets"][0]["status"], "PENDING");
    assert_eq!(app.state.statements.get() - before, 3, "with its slots");
}
