//! What an attacker tried against the landed service, class by class: each test sends the
//! attack (and variants of it) and checks that it is refused with a code while the service
//! keeps serving everyone else.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, WsClient, assert_ok, error_code, spawn_app, spawn_app_with,
};

/// The service still answers a trivial query (the process did not abort).
async fn still_serving(app: &TestApp) {
    let body = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

async fn post_raw(app: &TestApp, content_type: Option<&str>, body: String) -> reqwest::Response {
    let mut request = app.client.post(app.url("/graphql")).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn deeply_nested_input_values_are_refused_and_never_abort_the_process() {
    let app = spawn_app().await;
    let lists = format!(
        "{{ tips(search: {}\"x\"{}) {{ edges {{ node {{ id }} }} }} }}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    let objects = format!(
        "{{ tips(search: {}1{}) {{ edges {{ node {{ id }} }} }} }}",
        "{a:".repeat(1500),
        "}".repeat(1500)
    );
    let selections = format!("{{ {}__typename{} }}", "a {".repeat(3000), "}".repeat(3000));
    let default_value = format!(
        "query($v: String = {}1{}) {{ __typename }}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    for query in [&lists, &objects, &selections, &default_value] {
        let body = app.graphql(query, json!({}), None).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{body}"
        );
        assert!(body["data"].is_null());
        // Refused from the text, before the parser recursed (a debug build's parser gives up
        // with a syntax error first, a release build's overflows its stack and aborts).
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("levels of brackets"), "{message}");
        still_serving(&app).await;
    }
    // Variables: JSON itself allows 128 levels; the service allows 64 and says which variable.
    let mut nested = json!("x");
    for _ in 0..100 {
        nested = json!([nested]);
    }
    let body = app
        .graphql(
            "query($s: String) { tips(search: $s) { edges { node { id } } } }",
            json!({ "s": nested }),
            None,
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "s", "{body}");
    // The same document over a WebSocket subscription.
    let mut ws = WsClient::connect(&app, json!({})).await.unwrap();
    ws.subscribe(
        "deep",
        &format!(
            "subscription {{ events(filter: {{ kinds: {}\"x\"{} }}) {{ kind }} }}",
            "[".repeat(2000),
            "]".repeat(2000)
        ),
        json!({}),
    )
    .await;
    let error = ws.next_error().await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("levels of brackets"),
        "{error}"
    );
    still_serving(&app).await;
}

#[tokio::test]
async fn bodies_that_are_not_json_are_refused_before_the_schema_and_get_queries_only_read() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ __typename }" }).to_string();
    // A page on another site can send these without a CORS preflight.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let response = post_raw(&app, content_type, query.clone()).await;
        assert_eq!(response.status(), 415, "{content_type:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body).as_deref(), Some("UNSUPPORTED_MEDIA_TYPE"));
    }
    let response = post_raw(&app, Some("application/json; charset=utf-8"), query).await;
    assert_eq!(response.status(), 200);

    // GET runs queries, never mutations.
    let get = |query: &str| {
        app.client
            .get(app.url("/graphql"))
            .query(&[("query", query)])
            .send()
    };
    let read: Value = get("{ __typename }").await.unwrap().json().await.unwrap();
    assert_eq!(read["data"]["__typename"], "Query");
    let mutation = get("mutation { logout }").await.unwrap();
    assert_eq!(mutation.status(), 405);
    assert_eq!(mutation.headers()["allow"], "GET, POST");
    let named = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query A { __typename } mutation B { logout }"),
            ("operationName", "B"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), 405);
    // Without a query, GET is GraphiQL.
    let page = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn a_body_over_the_limit_gets_a_json_error_with_a_code() {
    let app = spawn_app().await;
    let huge = json!({ "query": format!("{{ __typename }} #{}", "x".repeat(300 * 1024)) });
    let response = post_raw(&app, Some("application/json"), huge.to_string()).await;
    assert_eq!(response.status(), 413);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        error_code(&body).as_deref(),
        Some("PAYLOAD_TOO_LARGE"),
        "{body}"
    );
}

#[tokio::test]
async fn lists_multiply_a_querys_complexity_so_aliases_cannot_amplify_it() {
    let app = spawn_app().await;
    // 300 aliases of a list of 100 meetings with their reports: 15 KB, 30,000 objects.
    let aliases: String = (0..300)
        .map(|i| format!("m{i}: meetings(when: UPCOMING, first: 100) {{ report {{ id }} }} "))
        .collect();
    let before = app.state.statements.get();
    let body = app
        .graphql(&format!("{{ {aliases} }}"), json!({}), None)
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex")
    );
    // Refused before it ran: no statement for the 30,000 objects (2 at most from background
    // work such as the event relay on PostgreSQL).
    assert!(app.state.statements.get() - before <= 2, "statements ran");
    // Nested lists multiply too: 100 news posts × their topics is over the limit with enough
    // fields, while the same selection on a page of 20 passes.
    let fields = "id title body publishedAt author { displayName } topics { id slug name }";
    let over = app
        .graphql(
            &format!("{{ a: news(first: 100) {{ edges {{ node {{ {fields} }} }} }} b: news(first: 100) {{ edges {{ node {{ {fields} }} }} }} }}"),
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        error_code(&over).as_deref(),
        Some("BAD_USER_INPUT"),
        "{over}"
    );
    let fine = app
        .graphql(
            &format!("{{ news(first: 20) {{ edges {{ node {{ {fields} }} }} }} }}"),
            json!({}),
            None,
        )
        .await;
    assert_ok(&fine);
}

#[tokio::test]
async fn meeting_reports_under_a_list_are_loaded_in_one_statement() {
    let app = spawn_app().await;
    let net = app.seed_network().await;
    let schedule = "mutation($i: MeetingInput!, $n: Int!) { scheduleMeeting(input: $i, repeatMonthly: $n) { id } }";
    let report = "mutation($m: ID!) { publishMeetingReport(meetingId: $m, input: { title: \"Report\", body: \"Notes\" }) { id } }";
    let list = "{ meetings(when: UPCOMING, first: 100) { id report { id title } } }";
    let mut counts = Vec::new();
    for n in [2, 12] {
        let body = app
            .graphql(
                schedule,
                json!({ "i": { "title": format!("Series {n}"), "place": "Hall 1", "startsAt": "2031-01-10T10:00:00Z", "endsAt": "2031-01-10T12:00:00Z" }, "n": n }),
                Some(&net.tokens.admin),
            )
            .await;
        assert_ok(&body);
        for meeting in body["data"]["scheduleMeeting"].as_array().unwrap() {
            let published = app
                .graphql(
                    report,
                    json!({ "m": meeting["id"] }),
                    Some(&net.tokens.admin),
                )
                .await;
            assert_ok(&published);
        }
        // The fewest of three tries: a busy machine may split a batch in two.
        let mut fewest = u64::MAX;
        let mut listed_len = 0;
        for _ in 0..3 {
            let before = app.state.statements.get();
            let listed = app.graphql(list, json!({}), None).await;
            assert_ok(&listed);
            let meetings = listed["data"]["meetings"].as_array().unwrap();
            assert!(meetings.iter().all(|m| m["report"]["title"] == "Report"));
            listed_len = meetings.len();
            fewest = fewest.min(app.state.statements.get() - before);
        }
        counts.push((listed_len, fewest));
    }
    assert_eq!(
        counts[0].1, counts[1].1,
        "statements for 2 vs 14 meetings: {counts:?}"
    );
}

#[tokio::test]
async fn a_query_past_its_deadline_is_stopped_with_timeout_but_a_mutation_runs_to_its_end() {
    let app = spawn_app_with(|c| c.graphql.query_timeout = Duration::from_millis(1)).await;
    let net = app.seed_network().await;
    // Loading 100 meetings and their reports takes longer than a millisecond.
    let body = app
        .graphql(
            "{ a: meetings(when: PAST, first: 100) { id report { id } } b: topics { id } organizations { id members { person { id } } } }",
            json!({}),
            Some(&net.tokens.admin),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("TIMEOUT"), "{body}");
    let changed = app
        .graphql(
            "mutation { createTopic(input: { slug: \"timely\", nameFi: \"A\", nameSv: \"B\", nameEn: \"C\" }) { id } }",
            json!({}),
            Some(&net.tokens.admin),
        )
        .await;
    assert_ok(&changed);
}

#[tokio::test]
async fn a_request_may_check_one_password() {
    let app = spawn_app().await;
    let net = app.seed_network().await;
    let tokens_before = token_count(&app).await;
    let body = app
        .graphql(
            &format!(
                "mutation {{ a: login(email: \"admin@uni.test\", password: \"{PASSWORD}\") {{ token }} b: login(email: \"admin@uni.test\", password: \"{PASSWORD}\") {{ token }} }}"
            ),
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert!(
        body["data"].is_null() || body["data"]["b"].is_null(),
        "{body}"
    );
    assert_eq!(
        token_count(&app).await,
        tokens_before + 1,
        "only the first alias logged in"
    );
    // Two password changes in one request: the second is refused before it hashes anything.
    let change = format!(
        "mutation {{ a: changePassword(currentPassword: \"{PASSWORD}\", newPassword: \"first-new-password-1\") {{ token }} b: changePassword(currentPassword: \"{PASSWORD}\", newPassword: \"second-new-password-2\") {{ token }} }}"
    );
    let body = app
        .graphql(&change, json!({}), Some(&net.tokens.staff))
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    app.login("staff@uni.test", "first-new-password-1").await;
}

async fn token_count(app: &TestApp) -> usize {
    use sea_orm::EntityTrait;
    entity::access_token::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn concurrent_password_changes_with_the_same_old_password_change_it_once() {
    let app = spawn_app().await;
    let net = app.seed_network().await;
    let change = "mutation($n: String!) { changePassword(currentPassword: \"%OLD%\", newPassword: $n) { token } }"
        .replace("%OLD%", PASSWORD);
    let answers = join_all(
        ["first-new-password-1", "second-new-password-2"]
            .map(|new| app.graphql(&change, json!({ "n": new }), Some(&net.tokens.staff))),
    )
    .await;
    let succeeded: Vec<usize> = (0..2).filter(|i| answers[*i]["errors"].is_null()).collect();
    assert_eq!(succeeded.len(), 1, "{answers:?}");
    let winner = ["first-new-password-1", "second-new-password-2"][succeeded[0]];
    let token = app.login("staff@uni.test", winner).await;
    let me = app
        .graphql("{ me { email } }", json!({}), Some(&token))
        .await;
    assert_eq!(me["data"]["me"]["email"], "staff@uni.test");
    // The winner's token is alive: the loser revoked nothing.
    let fresh = answers[succeeded[0]]["data"]["changePassword"]["token"]
        .as_str()
        .unwrap();
    let me = app
        .graphql("{ me { email } }", json!({}), Some(fresh))
        .await;
    assert_eq!(me["data"]["me"]["email"], "staff@uni.test", "{me}");
}

#[tokio::test]
async fn concurrent_failed_logins_past_a_limit_are_refused_before_any_hashing() {
    let app = spawn_app().await;
    app.seed_network().await;
    let login =
        "mutation($e: String!) { login(email: $e, password: \"wrong-password-1234\") { token } }";
    // 16 at once for one email (limit 5).
    let answers =
        join_all((0..16).map(|_| app.graphql(login, json!({ "e": "admin@uni.test" }), None))).await;
    let checked = answers
        .iter()
        .filter(|b| error_code(b).as_deref() == Some("UNAUTHENTICATED"))
        .count();
    let limited = answers
        .iter()
        .filter(|b| error_code(b).as_deref() == Some("RATE_LIMITED"))
        .count();
    assert_eq!(checked, 5, "{checked} of 16 were checked; the limit is 5");
    assert_eq!(checked + limited, 16, "{answers:?}");
    // 64 at once for different emails from one address (limit 30, of which 5 are used).
    let answers = join_all(
        (0..64).map(|i| app.graphql(login, json!({ "e": format!("nobody{i}@uni.test") }), None)),
    )
    .await;
    let checked = answers
        .iter()
        .filter(|b| error_code(b).as_deref() == Some("UNAUTHENTICATED"))
        .count();
    assert_eq!(
        checked, 25,
        "{checked} of 64 were checked; 25 of the 30 were left"
    );
    assert!(
        digimentor::auth::password::peak_concurrent_hashes()
            <= std::thread::available_parallelism().map_or(2, usize::from),
        "Argon2 ran {} at once",
        digimentor::auth::password::peak_concurrent_hashes()
    );
}

#[tokio::test]
async fn control_characters_and_non_characters_are_refused_in_every_text_input() {
    let app = spawn_app().await;
    let net = app.seed_network().await;
    let publish = "mutation($t: String!, $b: String!) { publishNews(input: { title: $t, body: $b }) { id title body } }";
    for bad in [
        "News \u{1} end",
        "a\u{b}b",
        "esc \u{1b}[31m",
        "x\u{fffe}",
        "nul\u{0}",
    ] {
        let body = app
            .graphql(
                publish,
                json!({ "t": bad, "b": "ok" }),
                Some(&net.tokens.admin),
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{bad:?}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "t", "{body}");
    }
    // In the document itself, escaped: the same refusal, naming the argument.
    let body = app
        .graphql(
            "{ organization(slug: \"\\u0000\") { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "slug");
    let body = app
        .graphql(
            "mutation { login(email: \"a\\u0000b@uni.test\", password: \"whatever-long-1\") { token } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    // Titles are one line; bodies keep their lines, with CRLF from a browser made LF.
    for title in ["Two\nlines", "Carriage\rreturn", "A\ttab"] {
        let body = app
            .graphql(
                publish,
                json!({ "t": title, "b": "ok" }),
                Some(&net.tokens.admin),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "title", "{body}");
    }
    let body = app
        .graphql(
            publish,
            json!({ "t": "One line", "b": "First\r\nsecond\rthird\n\tindented" }),
            Some(&net.tokens.admin),
        )
        .await;
    assert_ok(&body);
    assert_eq!(
        body["data"]["publishNews"]["body"],
        "First\nsecond\nthird\n\tindented"
    );
    // The feed stays well-formed XML.
    let feed = app
        .client
        .get(app.url("/feeds/news.atom"))
        .send()
        .await
        .unwrap();
    let parsed = feed_rs::parser::parse(feed.bytes().await.unwrap().as_ref());
    assert!(parsed.is_ok(), "{parsed:?}");
}

/// Any string, controls and non-characters included, as an argument of public queries: the
/// answer is data or `BAD_USER_INPUT`, never `INTERNAL` (PostgreSQL refuses NUL). 64 generated
/// strings against one server (the cases are drawn first, then sent; a failure prints its input).
#[tokio::test]
async fn any_generated_text_is_answered_with_data_or_a_coded_refusal() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let strategy = prop::collection::vec(
        prop_oneof![
            any::<char>(),
            prop::sample::select(vec![
                '\0', '\u{1}', '\u{b}', '\u{1b}', '\u{7f}', '\u{fffe}', '\u{ffff}', '\u{fdd0}',
                '\r', '\n',
            ]),
        ],
        0..40,
    )
    .prop_map(|chars| chars.into_iter().collect::<String>());
    let mut runner = TestRunner::default();
    let texts: Vec<String> = (0..64)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let app = spawn_app().await;
    for text in texts {
        let body = app
            .graphql(
                "query($s: String!) { organization(slug: $s) { id } tips(search: $s) { edges { node { id } } } }",
                json!({ "s": text }),
                None,
            )
            .await;
        let allowed = text.chars().all(digimentor::values::is_allowed_char);
        match error_code(&body).as_deref() {
            None => assert!(allowed, "{text:?} was accepted: {body}"),
            Some("BAD_USER_INPUT") => {}
            Some(other) => panic!("{text:?} answered {other}: {body}"),
        }
    }
}

#[tokio::test]
async fn the_tips_of_a_topic_are_listed_however_many_there_are() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let net = app.seed_network().await;
    let topic = app
        .graphql(
            "mutation { createTopic(input: { slug: \"many\", nameFi: \"A\", nameSv: \"B\", nameEn: \"C\" }) { id } }",
            json!({}),
            Some(&net.tokens.admin),
        )
        .await["data"]["createTopic"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // More tips than SQLite allows variables in one statement (32,766), copied from one made
    // through the API.
    let template = app
        .graphql(
            "mutation($o: ID!) { createTip(organizationId: $o, input: { title: \"T\", body: \"B\" }) { id } }",
            json!({ "o": net.science }),
            Some(&net.tokens.mentor),
        )
        .await;
    let template = template["data"]["createTip"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = &app.state.db;
    let backend = db.get_database_backend();
    // UUIDs are native on PostgreSQL and 16-byte blobs on SQLite.
    let literal = |id: uuid::Uuid| match backend {
        sea_orm::DbBackend::Postgres => format!("'{id}'::uuid"),
        _ => format!("X'{}'", id.simple()),
    };
    let (template, topic_literal) = (
        literal(uuid::Uuid::parse_str(&template).unwrap()),
        literal(uuid::Uuid::parse_str(&topic).unwrap()),
    );
    let ids: Vec<uuid::Uuid> = (0..33_000).map(|_| uuid::Uuid::now_v7()).collect();
    for chunk in ids.chunks(2000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|id| format!("({})", literal(*id)))
            .collect();
        let values = values.join(",");
        db.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO tip (id, author_id, organization_id, title, body, source_target_id, created_at, updated_at) \
                 SELECT v.column1, t.author_id, t.organization_id, t.title, t.body, NULL, t.created_at, t.updated_at \
                 FROM (VALUES {values}) AS v CROSS JOIN tip t WHERE t.id = {template}"
            ),
        ))
        .await
        .unwrap();
        db.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO tip_topic (tip_id, topic_id) SELECT v.column1, {topic_literal} FROM (VALUES {values}) AS v"
            ),
        ))
        .await
        .unwrap();
    }
    let body = app
        .graphql(
            "query($t: ID!) { tips(topic: $t, first: 5) { edges { node { id } } pageInfo { hasNextPage } } }",
            json!({ "t": topic }),
            None,
        )
        .await;
    assert_ok(&body);
    assert_eq!(body["data"]["tips"]["edges"].as_array().unwrap().len(), 5);
    assert_eq!(body["data"]["tips"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn made_up_http_methods_share_one_metrics_label() {
    let app = spawn_app().await;
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        app.client
            .request(method, app.url("/graphql"))
            .send()
            .await
            .unwrap();
    }
    let metrics = app.get_text("/metrics").await;
    assert!(!metrics.contains("MADEUP"), "made-up methods became labels");
    assert!(metrics.contains("method=\"other\""), "{metrics}");
}

#[tokio::test]
async fn the_standard_introspection_query_passes_at_default_and_tightened_limits() {
    // graphql-js `getIntrospectionQuery()`, as GraphiQL and code generators send it.
    for max_depth in [12, 5] {
        let app = spawn_app_with(|c| c.graphql.max_depth = max_depth).await;
        for query in [
            include_str!("fixtures/introspection.graphql"),
            include_str!("fixtures/introspection-all-options.graphql"),
        ] {
            let body = app.graphql(query, json!({}), None).await;
            assert_ok(&body);
            assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
        }
        // The tightened limit still holds for everything else: six levels.
        let deep = "{ me { memberships { organization { members { person { id } } } } } }";
        let body = app.graphql(deep, json!({}), None).await;
        if max_depth < 6 {
            assert_eq!(
                error_code(&body).as_deref(),
                Some("BAD_USER_INPUT"),
                "{body}"
            );
        } else {
            assert_ok(&body);
        }
    }
}

/// The connection ends with `code`, whatever it sent before.
async fn closes_with(ws: &mut WsClient, code: u16) {
    let closed = ws.closed().await;
    assert_eq!(closed.code, code, "{closed:?}");
}

#[tokio::test]
async fn an_open_websocket_loses_its_rights_with_its_token_and_its_memberships() {
    let app = spawn_app().await;
    let ch = app.seed_channel().await;
    let inquiry_events = json!({ "f": { "kinds": ["inquiry.published"] } });
    let events = "subscription($f: EventFilter) { events(filter: $f) { kind subjectId } }";

    // Logging out ends the connections opened with that token, and only those.
    let token = app.login("science.mentor@uni.test", PASSWORD).await;
    let mut revoked = WsClient::connect(&app, json!({ "token": token }))
        .await
        .unwrap();
    let mut other = WsClient::connect(&app, json!({ "token": ch.token("science.mentor") }))
        .await
        .unwrap();
    revoked
        .subscribe_ready("1", events, inquiry_events.clone())
        .await;
    other
        .subscribe_ready("1", events, inquiry_events.clone())
        .await;
    assert_ok(
        &app.graphql("mutation { logout }", json!({}), Some(&token))
            .await,
    );
    closes_with(&mut revoked, 4403).await;
    app.published_inquiry(&ch, "Still mine", &["science"]).await;
    assert_eq!(
        other.next_data().await["events"]["kind"],
        "inquiry.published"
    );

    // A mentor removed from the community: the connection closes; reconnecting with the same
    // token gives the rights the mentor has now, and the community's inquiries no longer come.
    let membership = app
        .graphql(
            "{ me { memberships { id organization { slug } } } }",
            json!({}),
            ch.token("science.mentor"),
        )
        .await["data"]["me"]["memberships"][0]["id"]
        .clone();
    assert_ok(
        &app.graphql(
            "mutation($id: ID!) { removeMembership(id: $id) { id } }",
            json!({ "id": membership }),
            ch.token("admin"),
        )
        .await,
    );
    closes_with(&mut other, 4403).await;
    let mut again = WsClient::connect(&app, json!({ "token": ch.token("science.mentor") }))
        .await
        .unwrap();
    again.subscribe("1", events, inquiry_events).await;
    let mut comentor = WsClient::connect(&app, json!({ "token": ch.token("science.comentor") }))
        .await
        .unwrap();
    comentor
        .subscribe_ready(
            "1",
            events,
            json!({ "f": { "kinds": ["inquiry.published"] } }),
        )
        .await;
    app.published_inquiry(&ch, "Not yours any more", &["science"])
        .await;
    assert_eq!(
        comentor.next_data().await["events"]["kind"],
        "inquiry.published"
    );
    assert!(again.stays_quiet(Duration::from_millis(500)).await);
}

#[tokio::test]
async fn an_open_websocket_closes_when_its_token_expires() {
    let app = spawn_app_with(|c| c.token_ttl = Duration::from_secs(2)).await;
    app.create_user("brief@uni.test", false).await;
    let token = app.login("brief@uni.test", PASSWORD).await;
    let mut ws = WsClient::connect(&app, json!({ "token": token }))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    closes_with(&mut ws, 4403).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_forged_token_in_connection_init_is_closed_with_4403() {
    let app = spawn_app().await;
    for payload in [
        json!({ "token": "dmt_forged" }),
        json!({ "Authorization": "Bearer dmt_forged" }),
    ] {
        let closed = WsClient::connect(&app, payload)
            .await
            .err()
            .expect("refused");
        assert_eq!(closed.code, 4403, "{closed:?}");
    }
}

#[tokio::test]
async fn sockets_per_address_and_subscriptions_per_socket_are_capped() {
    let app = spawn_app_with(|c| {
        c.websocket.max_per_address = 3;
        c.websocket.max_subscriptions = 3;
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(WsClient::connect(&app, json!({})).await.unwrap());
    }
    // The fourth anonymous socket from the same address is refused before the upgrade.
    let refused = app
        .client
        .get(app.url("/graphql/ws"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", "graphql-transport-ws")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    // Closing one frees its place.
    let mut closing = open.pop().unwrap();
    closing.close().await;
    // The place is free once the server's side of the connection has ended, a moment after
    // its close frame.
    let mut reopened = None;
    for _ in 0..50 {
        match WsClient::try_open(&app).await {
            Ok(client) => {
                reopened = Some(client);
                break;
            }
            Err(status) => assert_eq!(status, 429),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    open.push(reopened.expect("the closed socket's place was freed"));

    let ws = &mut open[0];
    let events = "subscription { events { kind } }";
    for id in ["1", "2", "3"] {
        ws.subscribe(id, events, json!({})).await;
    }
    ws.subscribe("4", events, json!({})).await;
    let error = ws.next_error().await;
    assert_eq!(error["extensions"]["code"], "RATE_LIMITED", "{error}");
    let ended = ws.next_frame(Duration::from_secs(2)).await.unwrap();
    assert!(ended.to_string().contains("\"complete\""), "{ended:?}");
    // Completing one subscription frees its place.
    ws.send_text(json!({ "id": "2", "type": "complete" }).to_string())
        .await;
    // The server answers `complete` once it has dropped the subscription.
    loop {
        let frame = ws.next_frame(Duration::from_secs(5)).await.unwrap();
        let text = frame.to_string();
        if text.contains("\"complete\"") && text.contains("\"2\"") {
            break;
        }
    }
    ws.subscribe("5", events, json!({})).await;
    while let Some(frame) = ws.next_frame(Duration::from_millis(300)).await {
        assert!(
            !frame.to_string().contains("\"5\""),
            "the fifth was refused: {frame:?}"
        );
    }
}

#[tokio::test]
async fn an_inquiry_update_is_read_once_however_many_subscribe_to_it() {
    let app = spawn_app_with(|c| c.websocket.max_subscriptions = 100).await;
    let ch = app.seed_channel().await;
    let updated = "subscription($id: ID!) { inquiryUpdated(id: $id) { id status coverage { summary answered } } }";
    let answer = "mutation($t: ID!, $v: Int!) { answerInquiry(input: { targetId: $t, body: \"x\", expectedVersion: $v }) { id } }";
    let mut costs = Vec::new();
    for (round, subscribers) in [(0, 2usize), (1, 40)] {
        let (id, slots) = app
            .published_inquiry(&ch, &format!("Watched {round}"), &["science", "arts"])
            .await;
        let mut ws = WsClient::connect(&app, json!({ "token": ch.token("lead") }))
            .await
            .unwrap();
        for n in 0..subscribers {
            ws.subscribe(&n.to_string(), updated, json!({ "id": id }))
                .await;
        }
        // Every subscription is running once it has seen an update: until each has, post a
        // message on the thread, then drain what is left. Only then do the subscriptions'
        // start-up reads lie before the measurement.
        let mut ready = std::collections::HashSet::new();
        while ready.len() < subscribers {
            assert_ok(
                &app.graphql(
                    "mutation($t: ID!) { postInquiryMessage(input: { targetId: $t, body: \"ready?\" }) { id } }",
                    json!({ "t": slots["science"] }),
                    ch.token("science.mentor"),
                )
                .await,
            );
            while let Some(frame) = ws.next_frame(Duration::from_millis(500)).await {
                if let Ok(message) = serde_json::from_str::<Value>(&frame.to_string())
                    && message["type"] == "next"
                {
                    ready.insert(message["id"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        let before = app.state.statements.get();
        assert_ok(
            &app.graphql(
                answer,
                json!({ "t": slots["science"], "v": 0 }),
                ch.token("science.mentor"),
            )
            .await,
        );
        for _ in 0..subscribers {
            let data = ws.next_data().await;
            assert_eq!(data["inquiryUpdated"]["coverage"]["answered"], 1);
        }
        costs.push(app.state.statements.get() - before);
    }
    assert!(
        costs[1] <= costs[0] + 2,
        "statements for an answer seen by 2 vs 40 subscribers: {costs:?}"
    );
}

#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed_and_do_not_hold_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut app = spawn_app_with(|c| c.header_timeout = Duration::from_secs(1)).await;
    let mut trickling = Vec::new();
    for _ in 0..200 {
        let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        trickling.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for stream in &mut trickling {
        let mut buffer = [0u8; 256];
        // Closed by the server: end of stream (possibly after a 408 answer).
        let read = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(read.is_ok(), "a slow-header connection is still open");
    }
    // Fresh trickling and idle keep-alive connections do not hold shutdown for its grace.
    let mut held = Vec::new();
    for _ in 0..50 {
        let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    let idle = reqwest::Client::new();
    idle.get(app.url("/healthz")).send().await.unwrap();
    let started = std::time::Instant::now();
    app.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[test]
fn docker_compose_trusts_only_the_balancer_and_no_directly_published_client() {
    let compose = include_str!("../../docker-compose.yml");
    let values = |key: &str| -> Vec<String> {
        compose
            .lines()
            .filter_map(|line| line.trim().strip_prefix(key))
            .map(|v| v.trim().trim_matches('"').to_owned())
            .collect()
    };
    let balancer: std::net::IpAddr = values("ipv4_address:")[0].parse().unwrap();
    let dynamic: ipnet::IpNet = values("ip_range:")[0].parse().unwrap();
    assert!(
        !dynamic.contains(&balancer),
        "another container could be given the balancer's address"
    );
    let trusted = values("TRUSTED_PROXIES:");
    assert!(!trusted.is_empty());
    for value in trusted {
        // One address, the balancer's: never a network that Docker's gateway falls in.
        let address: std::net::IpAddr = value
            .parse()
            .unwrap_or_else(|_| panic!("TRUSTED_PROXIES {value:?} is not one address"));
        assert_eq!(address, balancer);
        let gateway: std::net::IpAddr = values("gateway:")[0].parse().unwrap();
        assert_ne!(address, gateway);
    }
}

#[tokio::test]
async fn only_the_contacts_pages_people_have_public_emails() {
    let app = spawn_app().await;
    let net = app.seed_network().await;
    let publish = "mutation { publishNews(input: { title: \"Hello\", body: \"World\" }) { id } }";
    assert_ok(
        &app.graphql(publish, json!({}), Some(&net.tokens.admin))
            .await,
    );
    assert_ok(
        &app.graphql(publish, json!({}), Some(&net.tokens.mentor))
            .await,
    );
    let authors = "{ news { edges { node { author { displayName email } } } } }";
    let emails = |body: &Value| -> Vec<Value> {
        body["data"]["news"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["author"]["email"].clone())
            .collect()
    };
    // The admin holds no public role; the mentor does.
    let visitor = app.graphql(authors, json!({}), None).await;
    assert_ok(&visitor);
    let seen = emails(&visitor);
    assert_eq!(seen.len(), 2, "{visitor}");
    assert!(
        seen.contains(&Value::Null),
        "the admin's address is hidden: {visitor}"
    );
    assert!(seen.contains(&json!("mentor@uni.test")), "{visitor}");
    // Staff see the same; the admin and the person themself see the address.
    let staff = app
        .graphql(authors, json!({}), Some(&net.tokens.staff))
        .await;
    assert!(emails(&staff).contains(&Value::Null));
    let admin = app
        .graphql(authors, json!({}), Some(&net.tokens.admin))
        .await;
    assert!(emails(&admin).contains(&json!("admin@uni.test")));
    // The contacts page shows mentors' addresses to anyone.
    let contacts = app
        .graphql("{ contacts { mentors { email } } }", json!({}), None)
        .await;
    assert!(
        contacts.to_string().contains("mentor@uni.test"),
        "{contacts}"
    );
}

#[tokio::test]
async fn line_breaks_cannot_reach_a_calendar_line_and_links_are_http_urls() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let net = app.seed_network().await;
    let schedule =
        "mutation($i: MeetingInput!) { scheduleMeeting(input: $i) { id agenda onlineUrl } }";
    let input = |title: &str, place: &str, url: Option<&str>, agenda: &str| {
        json!({ "i": {
            "title": title, "place": place, "onlineUrl": url, "agenda": agenda,
            "startsAt": "2031-02-10T10:00:00Z", "endsAt": "2031-02-10T12:00:00Z",
        } })
    };
    for (vars, field) in [
        (input("M\rBEGIN:VALARM", "Hall", None, ""), "title"),
        (input("M", "Hall\r\nBEGIN:VALARM", None, ""), "place"),
        (
            input("M", "Hall", Some("https://meet.test/a\r\nBEGIN:VALARM"), ""),
            "onlineUrl",
        ),
        (
            input("M", "Hall", Some("javascript:alert(1)"), ""),
            "onlineUrl",
        ),
        (
            input("M", "Hall", Some("https://meet.test/a b"), ""),
            "onlineUrl",
        ),
    ] {
        let body = app.graphql(schedule, vars, Some(&net.tokens.admin)).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let body = app
        .graphql(
            schedule,
            input(
                "M",
                "Hall",
                Some("HTTPS://Meet.Test/room"),
                "1. News\r2. AI\r\n3. End",
            ),
            Some(&net.tokens.admin),
        )
        .await;
    assert_ok(&body);
    assert_eq!(
        body["data"]["scheduleMeeting"][0]["agenda"],
        "1. News\n2. AI\n3. End"
    );
    assert_eq!(
        body["data"]["scheduleMeeting"][0]["onlineUrl"],
        "https://meet.test/room"
    );
    // A row written before these checks, with a lone CR, still makes a safe calendar.
    app.state
        .db
        .execute_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "UPDATE meeting SET title = 'M' || char(13) || 'BEGIN:VALARM'".replace(
                "char(13)",
                if app.state.db.get_database_backend() == sea_orm::DbBackend::Postgres {
                    "chr(13)"
                } else {
                    "char(13)"
                },
            ),
        ))
        .await
        .unwrap();
    let ics = app.get_text("/feeds/meetings.ics").await;
    assert!(!ics.contains("\rBEGIN:VALARM"), "{ics:?}");
    assert!(
        ics.lines().all(|l| !l.starts_with("BEGIN:VALARM")),
        "{ics:?}"
    );
    let calendar: Result<icalendar::Calendar, _> = ics.parse();
    assert!(calendar.is_ok(), "{ics:?}");
}

#[tokio::test]
async fn the_news_feed_stays_well_formed_whatever_older_rows_hold() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let net = app.seed_network().await;
    assert_ok(
        &app.graphql(
            "mutation { publishNews(input: { title: \"Clean\", body: \"Body\" }) { id } }",
            json!({}),
            Some(&net.tokens.admin),
        )
        .await,
    );
    let chr = if app.state.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "chr"
    } else {
        "char"
    };
    app.state
        .db
        .execute_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            format!("UPDATE news_post SET title = 'News ' || {chr}(1) || ' end' || {chr}(27), body = 'a' || {chr}(11) || 'b'"),
        ))
        .await
        .unwrap();
    let feed = app
        .client
        .get(app.url("/feeds/news.atom"))
        .send()
        .await
        .unwrap();
    let parsed = feed_rs::parser::parse(feed.bytes().await.unwrap().as_ref()).unwrap();
    assert_eq!(
        parsed.entries[0].title.as_ref().unwrap().content,
        "News  end"
    );
}

#[tokio::test]
async fn graphiql_loads_only_from_this_origin_under_a_strict_policy() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/graphql")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(
        !csp.contains("http") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(
        !csp.split(';')
            .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline"))
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("//unpkg") && !html.contains("https://"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "an inline script: {html}");
    // Every script and stylesheet the page names is served by the binary, production builds.
    let mut assets = 0;
    for (marker, content_type) in [
        ("<script src=\"", "text/javascript"),
        ("rel=\"stylesheet\" href=\"", "text/css"),
    ] {
        for src in html.split(marker).skip(1) {
            let src = src.split('"').next().unwrap();
            assert!(src.starts_with("/graphiql/"), "{src}");
            let asset = app.client.get(app.url(src)).send().await.unwrap();
            assert_eq!(asset.status(), 200, "{src}");
            assert!(
                asset.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(content_type)
            );
            let body = asset.text().await.unwrap();
            assert!(
                !body.contains("react.development"),
                "{src} is a development build"
            );
            assets += 1;
        }
    }
    assert_eq!(assets, 5);
    assert_eq!(
        app.client
            .get(app.url("/graphiql/other-version/boot.js"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // The unsubscribe page has a policy too.
    let unsubscribe = app
        .client
        .get(app.url("/unsubscribe/not-a-token"))
        .send()
        .await
        .unwrap();
    let csp = unsubscribe.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    // With introspection off, GraphiQL is off too.
    let closed = spawn_app_with(|c| c.graphql.introspection = false).await;
    let page = closed
        .client
        .get(closed.url("/graphql"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
}
