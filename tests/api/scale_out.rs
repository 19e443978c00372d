//! Several instances on one PostgreSQL database, and the faults they must survive: a lost
//! listening connection, a frozen worker, a database outage. On SQLite (one server per file) the
//! multi-instance tests have nothing to run against and return at once; the SQLite guard is
//! tested in both modes.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use digimentor::app::Application;
use digimentor::error::{AppError, ErrorCode};
use digimentor::events::audience::Reader;
use digimentor::events::kinds::EventKind;
use digimentor::events::service::{NewEvent, append_event};
use digimentor::scheduler;
use entity::delivery::{self, DeliveryStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    TestApp, TestDatabase, WsClient, assert_ok, error_code, on_postgres, spawn_app, spawn_app_at,
    spawn_app_with, spawn_instance, test_config,
};
use crate::proxy::DbProxy;
use crate::smtp::SmtpSink;

/// Multi-instance tests need PostgreSQL; on SQLite they have nothing to run against.
/// The tests below are `#[ignore]`d with this reason, so a run on SQLite reports them as
/// ignored (not passed); on PostgreSQL `.ci/run` passes `--include-ignored`. Asked to run on
/// SQLite anyway, a test fails here with the reason.
fn require_postgres(test: &str) {
    assert!(
        on_postgres(),
        "{test}: several instances need PostgreSQL (TEST_DATABASE_URL); SQLite is one server per file"
    );
}

const CREATE_TOPIC: &str = "mutation($s: String!) { createTopic(input: { slug: $s, nameFi: \"a\", nameSv: \"b\", nameEn: \"c\" }) { id } }";
const TOPIC_EVENTS: &str =
    "subscription { events(filter: { kinds: [\"topic.created\"] }) { subjectId sequence } }";

async fn create_topic(app: &TestApp, token: &str, slug: &str) -> Value {
    app.graphql(CREATE_TOPIC, json!({ "s": slug }), Some(token))
        .await
}

fn topic_id(body: &Value) -> String {
    body["data"]["createTopic"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("createTopic failed: {body}"))
        .to_owned()
}

async fn topic_subscriber(app: &TestApp, token: &str) -> WsClient {
    let mut ws = WsClient::connect(app, json!({ "token": token }))
        .await
        .unwrap();
    ws.subscribe_ready("topics", TOPIC_EVENTS, json!({})).await;
    ws
}

/// The next topic event: `(subject id, sequence)`.
async fn next_topic(ws: &mut WsClient) -> (String, i64) {
    let data = ws.next_data().await;
    (
        data["events"]["subjectId"].as_str().unwrap().to_owned(),
        data["events"]["sequence"].as_i64().unwrap(),
    )
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn an_event_committed_on_one_instance_reaches_subscribers_on_the_others_in_commit_order() {
    require_postgres("cross-instance events");
    let a = spawn_app().await;
    let b = spawn_instance(&a, |_| {}).await;
    let c = spawn_instance(&a, |_| {}).await;
    let network = a.seed_network().await;
    let admin = network.tokens.admin.clone();
    let mut on_c = topic_subscriber(&c, &admin).await;

    // Sequential writes alternating between A and B arrive on C in the order they were made.
    let mut made = Vec::new();
    for i in 0..6 {
        let writer = if i % 2 == 0 { &a } else { &b };
        made.push(topic_id(
            &create_topic(writer, &admin, &format!("seq-{i}")).await,
        ));
    }
    let mut received = Vec::new();
    let mut last = 0;
    for _ in 0..6 {
        let (id, seq) = next_topic(&mut on_c).await;
        assert!(seq > last, "out of order: {seq} after {last}");
        last = seq;
        received.push(id);
    }
    assert_eq!(received, made);

    // Concurrent writes on A and B: all arrive once, in increasing log order.
    let writes = (0..20).map(|i| {
        let (writer, admin) = (if i % 2 == 0 { &a } else { &b }, admin.clone());
        async move { topic_id(&create_topic(writer, &admin, &format!("par-{i}")).await) }
    });
    let made: HashSet<String> = futures_util::future::join_all(writes)
        .await
        .into_iter()
        .collect();
    let mut received = HashSet::new();
    for _ in 0..20 {
        let (id, seq) = next_topic(&mut on_c).await;
        assert!(seq > last, "out of order: {seq} after {last}");
        last = seq;
        assert!(received.insert(id), "duplicate event");
    }
    assert_eq!(received, made);
    assert!(on_c.stays_quiet(Duration::from_millis(500)).await);
}

fn public_event(kind: EventKind) -> NewEvent {
    NewEvent {
        kind,
        actor_id: None,
        subject_id: Uuid::now_v7(),
        object_id: None,
        organization_ids: Vec::new(),
        topic_ids: Vec::new(),
        audience: vec![Reader::Public],
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn an_event_written_early_but_committed_late_is_not_skipped() {
    require_postgres("commit-order numbering");
    let a = spawn_app().await;
    let b = spawn_instance(&a, |_| {}).await;
    let mut on_b = WsClient::connect(&b, json!({})).await.unwrap();
    on_b.subscribe_ready(
        "e",
        "subscription { events(filter: { kinds: [\"topic.created\"] }) { subjectId sequence } }",
        json!({}),
    )
    .await;

    // The slow change writes its event first, so it draws the lower number…
    let (drawn_tx, drawn_rx) = tokio::sync::oneshot::channel();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let changes = a.state.changes.clone();
    let slow = tokio::spawn(async move {
        changes
            .run(async move |txn| {
                let event = append_event(txn, public_event(EventKind::TopicCreated)).await?;
                let _ = drawn_tx.send(event.clone());
                let _ = go_rx.await;
                Ok(((), event))
            })
            .await
    });
    let slow_event = drawn_rx.await.unwrap();
    // …but a quick one commits first and is relayed.
    let quick_event = a
        .state
        .changes
        .run(async |txn| {
            let event = append_event(txn, public_event(EventKind::TopicCreated)).await?;
            Ok((event.clone(), event))
        })
        .await
        .unwrap();
    assert!(slow_event.seq < quick_event.seq);
    let (first, first_seq) = next_topic(&mut on_b).await;
    assert_eq!(first, quick_event.subject_id.to_string());

    // Committed later, the slow event is numbered after the quick one and still arrives.
    go_tx.send(()).unwrap();
    slow.await.unwrap().unwrap();
    let (second, second_seq) = next_topic(&mut on_b).await;
    assert_eq!(second, slow_event.subject_id.to_string());
    assert!(second_seq > first_seq);
    let stored = entity::event::Entity::find()
        .filter(entity::event::Column::Id.eq(slow_event.id))
        .one(&a.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.seq, second_seq,
        "the log holds the commit-order number"
    );
}

/// The listening session of `app`, as PostgreSQL sees it.
async fn listener_sessions(app: &TestApp) -> Vec<i32> {
    let name = format!("digimentor-listener-{}", app.state.instance);
    let rows = app
        .state
        .db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            [name.into()],
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<i32>("", "pid").unwrap())
        .collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn a_listener_that_loses_its_connection_replays_what_it_missed_once_and_in_order() {
    require_postgres("listener loss");
    let a = spawn_app().await;
    let b = spawn_instance(&a, |_| {}).await;
    let network = a.seed_network().await;
    let admin = network.tokens.admin.clone();
    let mut on_b = topic_subscriber(&b, &admin).await;
    let pids = listener_sessions(&b).await;
    assert_eq!(
        pids.len(),
        1,
        "one dedicated listening session per instance"
    );

    let mut made = Vec::new();
    for i in 0..5 {
        made.push(topic_id(
            &create_topic(&a, &admin, &format!("before-{i}")).await,
        ));
    }
    // Kill B's listening backend while A keeps writing.
    let writer = {
        let (a_url, admin) = (a.url("/graphql"), admin.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut made = Vec::new();
            for i in 0..15 {
                let body: Value = client
                    .post(&a_url)
                    .bearer_auth(&admin)
                    .json(&json!({ "query": CREATE_TOPIC, "variables": { "s": format!("during-{i}") } }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                made.push(topic_id(&body));
            }
            made
        })
    };
    let terminated = a
        .state
        .db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_terminate_backend($1) AS done",
            [pids[0].into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(terminated.try_get::<bool>("", "done").unwrap());
    made.extend(writer.await.unwrap());

    let mut received = Vec::new();
    let mut last = 0;
    for _ in 0..made.len() {
        let (id, seq) = next_topic(&mut on_b).await;
        assert!(seq > last, "out of order: {seq} after {last}");
        last = seq;
        received.push(id);
    }
    assert_eq!(received, made, "every event once, in order");
    assert!(
        on_b.stays_quiet(Duration::from_millis(500)).await,
        "no duplicates"
    );
    assert!(b.state.metrics.listener_reconnects.get() >= 1);
    let after = listener_sessions(&b).await;
    assert_eq!(after.len(), 1);
    assert_ne!(after[0], pids[0], "a new listening session");
}

/// `TEST_DATABASE_URL`'s PostgreSQL server as host:port, for a proxy in front of it.
fn upstream(url: &str) -> std::net::SocketAddr {
    let parsed = url::Url::parse(url).unwrap();
    let host = parsed.host_str().unwrap().replace("localhost", "127.0.0.1");
    format!("{host}:{}", parsed.port().unwrap_or(5432))
        .parse()
        .unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn events_committed_while_an_instance_is_cut_off_are_replayed_when_it_reconnects() {
    require_postgres("listener replay");
    let a = spawn_app().await;
    let proxy = DbProxy::start(upstream(&a.state.config.database_url)).await;
    let b = spawn_app_at(
        TestDatabase::Borrowed,
        proxy.url_for(&a.state.config.database_url),
        |_| {},
    )
    .await;
    let network = a.seed_network().await;
    let admin = network.tokens.admin.clone();
    let mut on_b = topic_subscriber(&b, &admin).await;
    let first = topic_id(&create_topic(&a, &admin, "before").await);
    assert_eq!(next_topic(&mut on_b).await.0, first);

    // B loses its database (listener included) while A goes on writing; nothing is written
    // after B is back, so only a replay can bring these to B's subscriber.
    proxy.cut();
    let mut missed = Vec::new();
    for i in 0..5 {
        missed.push(topic_id(
            &create_topic(&a, &admin, &format!("missed-{i}")).await,
        ));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.restore();
    // The listener reconnects after its backoff (at most 5 s between tries), which a loaded
    // machine stretches: what is asserted is the replay, not its latency.
    let mut received = Vec::new();
    for _ in 0..missed.len() {
        let data = on_b.next_data_within(Duration::from_secs(30)).await;
        received.push(data["events"]["subjectId"].as_str().unwrap().to_owned());
    }
    assert_eq!(received, missed);
    assert!(on_b.stays_quiet(Duration::from_millis(500)).await);
    assert!(b.state.metrics.listener_reconnects.get() >= 1);
}

/// Copies one real delivery `n - existing` times under new keys, so the outbox holds `n`.
async fn fill_outbox(app: &TestApp, n: usize) -> usize {
    let template = delivery::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("a delivery to copy");
    let existing = delivery::Entity::find().count(&app.state.db).await.unwrap() as usize;
    let copies: Vec<delivery::ActiveModel> = (existing..n)
        .map(|i| {
            let id = Uuid::now_v7();
            let mut row = template.clone().into_active_model();
            row.id = Set(id);
            row.dedupe_key = Set(format!("load:{i}"));
            row.message_id = Set(format!("<{id}@digimentor.test>"));
            row
        })
        .collect();
    for chunk in copies.chunks(500) {
        delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.state.db)
            .await
            .unwrap();
    }
    n
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn three_instances_drain_2000_deliveries_sending_each_exactly_once() {
    require_postgres("shared outbox");
    let sink = SmtpSink::start().await;
    let configure = |c: &mut digimentor::config::Config| {
        c.mail = crate::helpers::smtp(&sink.url());
        c.run_workers = false;
        c.worker.poll_interval = Duration::from_millis(100);
    };
    let a = spawn_app_with(configure).await;
    let ch = a.seed_channel().await;
    a.published_inquiry(&ch, "Load", &["science"]).await;
    let total = fill_outbox(&a, 2000).await;
    let b = spawn_instance(&a, configure).await;
    let c = spawn_instance(&a, configure).await;

    let shutdown = tokio_util::sync::CancellationToken::new();
    let workers: Vec<_> = [&a, &b, &c]
        .iter()
        .map(|app| tokio::spawn(app.worker.clone().run(shutdown.clone())))
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    while sink.messages().len() < total && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give a would-be duplicate time to arrive before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    for worker in workers {
        worker.await.unwrap();
    }

    let messages = sink.messages();
    let ids: HashSet<String> = messages
        .iter()
        .map(|m| m.parsed().message_id().unwrap().to_owned())
        .collect();
    assert_eq!(messages.len(), total, "each delivery sent exactly once");
    assert_eq!(ids.len(), total, "no Message-ID twice");
    let sent = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Sent))
        .filter(delivery::Column::Attempts.eq(1))
        .count(&a.state.db)
        .await
        .unwrap();
    assert_eq!(sent as usize, total, "every row sent on its first attempt");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn a_claim_held_by_a_frozen_worker_is_sent_by_another_instance_after_the_lease() {
    require_postgres("lease expiry across instances");
    let frozen_sink = SmtpSink::start().await;
    frozen_sink.set_delay(Duration::from_secs(60));
    let healthy_sink = SmtpSink::start().await;
    let lease = Duration::from_secs(2);
    let a = spawn_app_with(|c| {
        c.mail = crate::helpers::smtp(&frozen_sink.url());
        c.worker.lease = lease;
    })
    .await;
    let b = spawn_instance(&a, |c| {
        c.mail = crate::helpers::smtp(&healthy_sink.url());
        c.worker.lease = lease;
    })
    .await;
    let ch = a.seed_channel().await;
    a.published_inquiry(&ch, "Frozen", &["science"]).await;
    let queued = delivery::Entity::find().count(&a.state.db).await.unwrap() as usize;
    assert!(queued > 0);

    // A claims the batch and hangs in the SMTP conversation.
    let frozen = {
        let worker = a.worker.clone();
        tokio::spawn(async move { worker.try_execute_step().await })
    };
    let claimed_by_a = async {
        loop {
            let claimed = delivery::Entity::find()
                .filter(delivery::Column::ClaimedUntil.is_not_null())
                .count(&a.state.db)
                .await
                .unwrap() as usize;
            if claimed == queued {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), claimed_by_a)
        .await
        .expect("A claimed the batch");
    assert_eq!(
        b.worker.try_execute_step().await.unwrap().claimed(),
        0,
        "the lease keeps B away"
    );

    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let report = b.worker.try_execute_step().await.unwrap();
    assert_eq!(report.sent, queued, "B sends what A still holds");
    frozen.abort(); // A is killed
    assert_eq!(healthy_sink.messages().len(), queued);
    let rows = delivery::Entity::find().all(&a.state.db).await.unwrap();
    for row in rows {
        assert_eq!(row.status, DeliveryStatus::Sent);
        assert_eq!(row.attempts, 2, "A's claim and B's both count");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn concurrent_scheduler_ticks_on_three_instances_queue_each_reminder_and_digest_once() {
    require_postgres("scheduler on several instances");
    let a = spawn_app().await;
    let b = spawn_instance(&a, |_| {}).await;
    let c = spawn_instance(&a, |_| {}).await;
    let ch = a.seed_channel().await;
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let topic = a
        .graphql(CREATE_TOPIC, json!({ "s": "moodle" }), ch.token("admin"))
        .await;
    let topic = topic_id(&topic);
    assert_ok(
        &a.graphql(
            "mutation($t: ID!) { subscribeTopic(topicId: $t, frequency: DAILY) { frequency } }",
            json!({ "t": topic }),
            ch.token("science.staff"),
        )
        .await,
    );
    // The subscriber's first digest window starts here.
    scheduler::tick(&a.state, at("2027-02-01T06:00:00Z")).await;

    // Deadline 2027-02-04 12:00 in Helsinki: the first reminder is due three days before.
    let created = a
        .graphql(
            "mutation($o: ID!, $c: [ID!]!, $t: ID!) { createInquiry(input: { organizationId: $o, title: \"Due\", body: \"b\", communityIds: $c, topicIds: [$t], deadline: \"2027-02-04T10:00:00Z\" }) { id } }",
            json!({ "o": ch.org("management"), "c": [ch.org("science"), ch.org("arts")], "t": topic }),
            ch.token("lead"),
        )
        .await;
    let id = created["data"]["createInquiry"]["id"].as_str().unwrap();
    assert_ok(
        &a.graphql(
            "mutation($id: ID!) { publishInquiry(id: $id) { id } }",
            json!({ "id": id }),
            ch.token("lead"),
        )
        .await,
    );
    entity::event::Entity::update_many()
        .col_expr(
            entity::event::Column::CreatedAt,
            Expr::value(at("2027-02-01T10:00:00Z")),
        )
        .filter(entity::event::Column::Kind.eq("inquiry.published"))
        .exec(&a.state.db)
        .await
        .unwrap();

    let now = at("2027-02-02T06:00:00Z");
    let (ra, rb, rc) = tokio::join!(
        scheduler::tick(&a.state, now),
        scheduler::tick(&b.state, now),
        scheduler::tick(&c.state, now)
    );
    let count = |kind: &'static str| {
        let db = a.state.db.clone();
        async move {
            delivery::Entity::find()
                .filter(delivery::Column::Kind.eq(kind))
                .count(&db)
                .await
                .unwrap()
        }
    };
    // Science has two mentors and Arts one; the one daily subscriber gets one digest.
    assert_eq!(ra.reminders + rb.reminders + rc.reminders, 3);
    assert_eq!(count("inquiry_reminder").await, 3);
    assert_eq!(ra.digests + rb.digests + rc.digests, 1);
    assert_eq!(count("digest").await, 1);
    // A later tick at the same moment finds nothing new.
    let again = scheduler::tick(&b.state, now).await;
    assert_eq!((again.reminders, again.digests), (0, 0));
}

#[tokio::test]
async fn a_second_server_on_one_sqlite_file_refuses_to_start_and_postgres_allows_several() {
    let mut first = spawn_app().await;
    let url = first.state.config.database_url.clone();
    let mail = tempfile::tempdir().unwrap();
    let second = Application::build(test_config(url.clone(), mail.path().to_owned())).await;
    if on_postgres() {
        assert!(second.is_ok(), "PostgreSQL serves several instances");
        return;
    }
    let message = format!("{:#}", second.err().expect("a second server is refused"));
    assert!(
        message.contains("another digimentor server is already running"),
        "{message}"
    );
    assert!(message.contains("PostgreSQL"), "{message}");
    // Once the first stops, the file is free again.
    first.stop().await.unwrap();
    let third = Application::build(test_config(url, mail.path().to_owned())).await;
    assert!(third.is_ok(), "{:?}", third.err());
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn instances_starting_together_on_a_fresh_database_migrate_it_and_load_the_demo_once() {
    require_postgres("concurrent start");
    let (_database, url) = TestDatabase::create().await;
    let mail = tempfile::tempdir().unwrap();
    let builds =
        (0..3).map(|_| Application::build(test_config(url.clone(), mail.path().to_owned())));
    let mut apps = Vec::new();
    for built in futures_util::future::join_all(builds).await {
        apps.push(built.unwrap_or_else(|err| panic!("{err:#}")));
    }
    // `serve --demo` on every instance at once.
    let loads = apps
        .iter()
        .map(|app| digimentor::demo::load(&app.state().changes));
    for loaded in futures_util::future::join_all(loads).await {
        assert!(loaded.is_ok(), "{:?}", loaded.err());
    }
    let db = &apps[0].state().db;
    let users = entity::user::Entity::find().count(db).await.unwrap();
    digimentor::demo::load(&apps[0].state().changes)
        .await
        .unwrap();
    assert_eq!(entity::user::Entity::find().count(db).await.unwrap(), users);
    assert!(users > 30, "the demo network, once");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn the_service_rides_out_a_database_outage_without_losing_acknowledged_writes() {
    require_postgres("database outage");
    let (database, direct_url) = TestDatabase::create().await;
    let proxy = DbProxy::start(upstream(&direct_url)).await;
    let app = spawn_app_at(database, proxy.url_for(&direct_url), |_| {}).await;
    let network = app.seed_network().await;
    let admin = network.tokens.admin.clone();
    let mut subscriber = topic_subscriber(&app, &admin).await;

    // A steady stream of writes while the database goes away and comes back.
    let writer = {
        let (url, admin) = (app.url("/graphql"), admin.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut outcomes: Vec<(String, Result<String, String>)> = Vec::new();
            for i in 0..400 {
                let slug = format!("steady-{i}");
                let response = client
                    .post(&url)
                    .bearer_auth(&admin)
                    .json(&json!({ "query": CREATE_TOPIC, "variables": { "s": slug } }))
                    .send()
                    .await
                    .unwrap();
                let body: Value = response.json().await.unwrap();
                let outcome = match body["data"]["createTopic"]["id"].as_str() {
                    Some(id) => Ok(id.to_owned()),
                    None => {
                        assert!(
                            !body.to_string().to_lowercase().contains("select"),
                            "{body}"
                        );
                        Err(error_code(&body).unwrap_or_default())
                    }
                };
                outcomes.push((slug, outcome));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            outcomes
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    proxy.cut();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready while the database is away");
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restore();
    let recovered = async {
        loop {
            let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
            if ready.status() == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), recovered)
        .await
        .expect("ready again without a restart");
    let outcomes = writer.await.unwrap();

    let acknowledged: Vec<&String> = outcomes
        .iter()
        .filter_map(|(_, outcome)| outcome.as_ref().ok())
        .collect();
    let failed: Vec<&String> = outcomes
        .iter()
        .filter_map(|(_, outcome)| outcome.as_ref().err())
        .collect();
    assert!(!failed.is_empty(), "some writes met the outage");
    assert!(
        failed.iter().all(|code| *code == "UNAVAILABLE"),
        "failures are coded UNAVAILABLE: {failed:?}"
    );
    let last_ok = outcomes.iter().rposition(|(_, o)| o.is_ok()).unwrap();
    let first_failure = outcomes.iter().position(|(_, o)| o.is_err()).unwrap();
    assert!(
        last_ok > first_failure,
        "writes succeed again after the outage"
    );

    // Everything acknowledged is in the database, with its event, and reached the subscriber.
    let direct = Database::connect(&direct_url).await.unwrap();
    for id in &acknowledged {
        let uuid = Uuid::parse_str(id).unwrap();
        assert!(
            entity::topic::Entity::find_by_id(uuid)
                .one(&direct)
                .await
                .unwrap()
                .is_some(),
            "acknowledged topic {id} was lost"
        );
        let events = entity::event::Entity::find()
            .filter(entity::event::Column::SubjectId.eq(uuid))
            .count(&direct)
            .await
            .unwrap();
        assert_eq!(events, 1);
    }
    // A write whose commit landed but whose answer the outage cut off is not acknowledged, yet
    // its event is real: the subscriber may see it too, so read until every acknowledged one came.
    let mut seen = HashSet::new();
    let mut last = 0;
    while !acknowledged.iter().all(|id| seen.contains(*id)) {
        let (id, seq) = next_topic(&mut subscriber).await;
        assert!(seq > last, "out of order: {seq} after {last}");
        last = seq;
        assert!(seen.insert(id), "duplicate event");
    }
    for id in acknowledged {
        assert!(seen.contains(id), "the subscriber missed {id}");
    }
    direct.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn statement_and_idle_transaction_timeouts_and_pool_size_come_from_configuration() {
    require_postgres("PostgreSQL session limits");
    let app = spawn_app_with(|c| {
        c.database.max_connections = 3;
        c.database.statement_timeout = Duration::from_millis(300);
        c.database.idle_in_transaction_timeout = Duration::from_millis(500);
    })
    .await;
    let db = &app.state.db;
    assert_eq!(
        db.get_postgres_connection_pool()
            .options()
            .get_max_connections(),
        3
    );

    let started = std::time::Instant::now();
    let err = db
        .execute_unprepared("SELECT pg_sleep(3)")
        .await
        .expect_err("cancelled by statement_timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(AppError::from(err).code(), ErrorCode::Unavailable);

    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SELECT 1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        txn.execute_unprepared("SELECT 1").await.is_err(),
        "the server ended the idle transaction"
    );
    drop(txn);
    // The pool replaces the ended session.
    db.execute_unprepared("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn metrics_expose_requests_errors_connections_outbox_and_deliveries() {
    let sink = SmtpSink::start().await;
    sink.set_mode(crate::smtp::Mode::TryLater);
    let app = spawn_app_with(|c| {
        c.mail = crate::helpers::smtp(&sink.url());
    })
    .await;
    let ch = app.seed_channel().await;
    // An error by code, a scanner's paths, an open WebSocket, queued email.
    let denied = app
        .graphql(CREATE_TOPIC, json!({ "s": "nope" }), None)
        .await;
    assert_eq!(error_code(&denied).as_deref(), Some("UNAUTHENTICATED"));
    for path in ["/unsubscribe/garbage", "/wp-login.php"] {
        app.client.get(app.url(path)).send().await.unwrap();
    }
    let ws = WsClient::connect(&app, json!({})).await.unwrap();
    app.published_inquiry(&ch, "Metrics", &["science"]).await;
    let pending = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
        .count(&app.state.db)
        .await
        .unwrap();
    assert!(pending > 0);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let text = scrape(&app).await;
    assert!(
        value(
            &text,
            "digimentor_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &text,
            "digimentor_http_request_duration_seconds_count{method=\"POST\",route=\"/graphql\"}"
        ) >= 1.0
    );
    assert_eq!(
        value(
            &text,
            "digimentor_http_requests_total{method=\"GET\",route=\"/unsubscribe/{token}\",status=\"400\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "digimentor_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "digimentor_graphql_errors_total{code=\"UNAUTHENTICATED\"}"
        ),
        1.0
    );
    assert_eq!(value(&text, "digimentor_websocket_connections"), 1.0);
    assert_eq!(
        value(&text, "digimentor_outbox_deliveries{status=\"pending\"}"),
        pending as f64
    );
    assert_eq!(
        value(&text, "digimentor_outbox_deliveries{status=\"sent\"}"),
        0.0
    );
    assert!(value(&text, "digimentor_outbox_oldest_pending_age_seconds") >= 1.0);
    assert_eq!(value(&text, "digimentor_database_up"), 1.0);
    assert_eq!(
        value(&text, "digimentor_event_listener_reconnects_total"),
        0.0
    );

    // The SMTP server says "try later": attempts and failures are counted.
    let report = app.worker.try_execute_step().await.unwrap();
    assert_eq!(report.retrying as u64, pending);
    drop(ws);
    let text = async {
        loop {
            let text = scrape(&app).await;
            if value(&text, "digimentor_websocket_connections") == 0.0 {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let text = tokio::time::timeout(Duration::from_secs(5), text)
        .await
        .expect("the closed WebSocket leaves the gauge");
    assert_eq!(
        value(&text, "digimentor_delivery_attempts_total"),
        pending as f64
    );
    assert_eq!(
        value(
            &text,
            "digimentor_delivery_failures_total{outcome=\"retry\"}"
        ),
        pending as f64
    );
}

/// With METRICS_BIND, `/metrics` answers on the internal address only: the public one says 404,
/// and the internal one serves nothing else (no pages, no API).
#[tokio::test]
async fn metrics_can_be_served_only_on_an_internal_address() {
    let app = spawn_app_with(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let internal = app.metrics.expect("a metrics listener");
    assert_ne!(internal.port(), app.address.port());
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    let text = app
        .client
        .get(format!("http://{internal}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 200);
    let text = text.text().await.unwrap();
    assert!(text.contains("digimentor_database_up 1"), "{text}");
    for path in ["/", "/graphql", "/news", "/readyz"] {
        let response = app
            .client
            .get(format!("http://{internal}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path} on the metrics address");
    }
    // Without the setting, the public address serves it (the default).
    let default = spawn_app().await;
    assert!(scrape(&default).await.contains("digimentor_database_up 1"));
}

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().await.unwrap()
}

/// The value of the sample named exactly `series` (name plus labels).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
                .map(|v| v.trim().parse::<f64>().unwrap())
        })
        .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn failed_logins_are_counted_across_instances() {
    require_postgres("shared login throttle");
    let a = spawn_app().await;
    let b = spawn_instance(&a, |_| {}).await;
    let c = spawn_instance(&a, |_| {}).await;
    a.create_user("target@uni.test", false).await;
    let login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";
    for (i, app) in [&a, &b, &c, &a, &b].iter().enumerate() {
        let body = app
            .graphql(
                login,
                json!({ "e": "target@uni.test", "p": format!("guess-{i}") }),
                None,
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    }
    // A sixth try, on the instance that has seen only one failure, even with the right
    // password.
    let body = c
        .graphql(
            login,
            json!({ "e": "target@uni.test", "p": crate::helpers::PASSWORD }),
            None,
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"), "{body}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn a_password_changed_on_one_instance_closes_the_users_websockets_on_another() {
    require_postgres("cross-instance session ends");
    let a = spawn_app().await;
    let b = spawn_instance(&a, |_| {}).await;
    a.create_user("roaming@uni.test", false).await;
    let on_b = a.login("roaming@uni.test", crate::helpers::PASSWORD).await;
    let on_a = a.login("roaming@uni.test", crate::helpers::PASSWORD).await;
    let mut ws = WsClient::connect(&b, json!({ "token": on_b }))
        .await
        .unwrap();
    let changed = a
        .graphql(
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token } }",
            json!({ "c": crate::helpers::PASSWORD, "n": "another long password" }),
            Some(&on_a),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    assert_eq!(ws.closed().await.code, 4403);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn a_logout_or_a_removed_membership_on_one_instance_closes_websockets_on_another() {
    require_postgres("cross-instance session ends");
    let a = spawn_app().await;
    let b = spawn_instance(&a, |_| {}).await;
    let ch = a.seed_channel().await;
    // Logging out through A ends B's connection that used the same token.
    let token = a
        .login("arts.mentor@uni.test", crate::helpers::PASSWORD)
        .await;
    let mut ws = WsClient::connect(&b, json!({ "token": token }))
        .await
        .unwrap();
    let body = a
        .graphql("mutation { logout }", json!({}), Some(&token))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(ws.closed().await.code, 4403);
    // A membership removed through A ends the member's connection on B.
    let mut ws = WsClient::connect(&b, json!({ "token": ch.token("medicine.mentor") }))
        .await
        .unwrap();
    let membership = a
        .graphql(
            "{ me { memberships { id } } }",
            json!({}),
            ch.token("medicine.mentor"),
        )
        .await["data"]["me"]["memberships"][0]["id"]
        .clone();
    let removed = a
        .graphql(
            "mutation($id: ID!) { removeMembership(id: $id) { id } }",
            json!({ "id": membership }),
            ch.token("admin"),
        )
        .await;
    assert!(removed["errors"].is_null(), "{removed}");
    assert_eq!(ws.closed().await.code, 4403);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): several instances share one database"]
async fn a_user_deactivated_on_one_instance_loses_their_websockets_on_another() {
    require_postgres("cross-instance session ends");
    let a = spawn_app().await;
    let b = spawn_instance(&a, |_| {}).await;
    let ch = a.seed_channel().await;
    let mut ws = WsClient::connect(&b, json!({ "token": ch.token("arts.staff") }))
        .await
        .unwrap();
    let mut colleague = WsClient::connect(&b, json!({ "token": ch.token("science.staff") }))
        .await
        .unwrap();
    let done = a
        .graphql(
            "mutation($u: ID!) { deactivateUser(userId: $u) { id } }",
            json!({ "u": ch.user_id("arts.staff").to_string() }),
            ch.token("admin"),
        )
        .await;
    assert!(done["errors"].is_null(), "{done}");
    assert_eq!(ws.closed().await.code, 4403);
    // Nobody else's connection ends.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), colleague.closed())
            .await
            .is_err()
    );
    // A new connection with the old token is refused.
    assert!(
        WsClient::connect(&b, json!({ "token": ch.token("arts.staff") }))
            .await
            .is_err()
    );
}
