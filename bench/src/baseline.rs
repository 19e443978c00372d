//! The same-run baseline: a bare axum server with no middleware, answering what the service
//! answers in the cheapest way possible. Figures are reported as ratios against it, which
//! survive a noisy machine better than absolute numbers.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRef, Path, State};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::{Json, Router};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio::sync::broadcast;

#[derive(Clone)]
struct Baseline {
    db: DatabaseConnection,
    /// Published events, as `graphql-transport-ws` payloads.
    events: broadcast::Sender<Value>,
}

impl FromRef<Baseline> for DatabaseConnection {
    fn from_ref(baseline: &Baseline) -> Self {
        baseline.db.clone()
    }
}

pub async fn serve(database_url: &str) -> anyhow::Result<()> {
    let db = digimentor::db::connect(database_url, &Default::default()).await?;
    let (events, _) = broadcast::channel(64);
    let app = Router::new()
        .route("/graphql", post(typename))
        .route("/graphql/ws", any(websocket))
        .route("/inquiry/{id}", get(inquiry))
        .route("/inquiries", get(inquiries))
        .route("/write", post(write))
        .route("/publish", post(publish))
        .with_state(Baseline { db, events });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(digimentor::app::shutdown_signal())
        .await?;
    Ok(())
}

/// What `{ __typename }` returns, without parsing anything.
async fn typename() -> Json<Value> {
    Json(json!({ "data": { "__typename": "Query" } }))
}

/// One inquiry row by id with raw SQL.
async fn inquiry(State(db): State<DatabaseConnection>, Path(id): Path<uuid::Uuid>) -> Json<Value> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT id, title, body, status, deadline FROM inquiry WHERE id = $1"
        }
        _ => "SELECT id, title, body, status, deadline FROM inquiry WHERE id = ?",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await
        .ok()
        .flatten();
    let value = row.map(|row| {
        json!({
            "id": row.try_get::<uuid::Uuid>("", "id").ok(),
            "title": row.try_get::<String>("", "title").ok(),
            "body": row.try_get::<String>("", "body").ok(),
            "status": row.try_get::<String>("", "status").ok(),
            "deadline": row.try_get::<Option<chrono::DateTime<chrono::Utc>>>("", "deadline").ok().flatten(),
        })
    });
    Json(json!({ "data": { "inquiry": value } }))
}

/// A page of 50 inquiries with their slots, each slot's community and answer author, in three
/// raw queries (the same shape the service's loaders use).
async fn inquiries(State(db): State<DatabaseConnection>) -> Json<Value> {
    let backend = db.get_database_backend();
    let page = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, title FROM inquiry ORDER BY id DESC LIMIT 50",
        ))
        .await
        .unwrap_or_default();
    let ids: Vec<uuid::Uuid> = page
        .iter()
        .filter_map(|r| r.try_get::<uuid::Uuid>("", "id").ok())
        .collect();
    let placeholders = |n: usize| match backend {
        sea_orm::DbBackend::Postgres => (1..=n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(","),
        _ => vec!["?"; n].join(","),
    };
    let targets = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT t.inquiry_id, t.status, o.slug, u.display_name FROM inquiry_target t \
                 JOIN organization o ON o.id = t.community_id \
                 LEFT JOIN \"user\" u ON u.id = t.answered_by WHERE t.inquiry_id IN ({})",
                placeholders(ids.len())
            ),
            ids.iter().map(|id| (*id).into()),
        ))
        .await
        .unwrap_or_default();
    let edges: Vec<Value> = page
        .iter()
        .map(|row| {
            let id = row.try_get::<uuid::Uuid>("", "id").ok();
            let slots: Vec<Value> = targets
                .iter()
                .filter(|t| t.try_get::<uuid::Uuid>("", "inquiry_id").ok() == id)
                .map(|t| {
                    json!({
                        "status": t.try_get::<String>("", "status").ok(),
                        "community": { "slug": t.try_get::<String>("", "slug").ok() },
                        "answeredBy": t.try_get::<Option<String>>("", "display_name").ok().flatten().map(|n| json!({ "displayName": n })),
                    })
                })
                .collect();
            json!({ "node": { "id": id, "title": row.try_get::<String>("", "title").ok(), "targets": slots } })
        })
        .collect();
    Json(json!({ "data": { "inquiries": { "edges": edges } } }))
}

/// A minimal durable write: one event row, committed.
async fn write(State(db): State<DatabaseConnection>) -> Json<Value> {
    let written = insert_event(&db, uuid::Uuid::now_v7()).await;
    Json(json!({ "data": { "written": written.is_ok() } }))
}

/// The fan-out's write: one event row committed, then broadcast to every WebSocket.
async fn publish(State(baseline): State<Baseline>) -> Json<Value> {
    let id = uuid::Uuid::now_v7();
    let written = insert_event(&baseline.db, id).await.is_ok();
    if written {
        let _ = baseline
            .events
            .send(json!({ "data": { "events": { "kind": "tip.created", "subjectId": id } } }));
    }
    Json(json!({ "data": { "createTip": written.then_some(json!({ "id": id })) } }))
}

/// Just enough `graphql-transport-ws` for the fan-out: acknowledge `connection_init`, take one
/// `subscribe`, forward every broadcast event to it. Same buffer sizes as the service.
async fn websocket(State(baseline): State<Baseline>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols(["graphql-transport-ws"])
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .on_upgrade(move |socket| relay(socket, baseline.events.subscribe()))
}

async fn relay(mut socket: WebSocket, mut events: broadcast::Receiver<Value>) {
    let mut subscription = None;
    while subscription.is_none() {
        let Some(Ok(Message::Text(text))) = socket.recv().await else {
            return;
        };
        let message: Value = serde_json::from_str(&text).unwrap_or_default();
        match message["type"].as_str() {
            Some("connection_init") => {
                let ack = json!({ "type": "connection_ack" }).to_string();
                if socket.send(Message::text(ack)).await.is_err() {
                    return;
                }
            }
            Some("subscribe") => subscription = Some(message["id"].clone()),
            _ => {}
        }
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(payload) => {
                    let next = json!({ "id": subscription, "type": "next", "payload": payload });
                    if socket.send(Message::text(next.to_string())).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => if !matches!(incoming, Some(Ok(_))) {
                return;
            },
        }
    }
}

async fn insert_event(db: &DatabaseConnection, id: uuid::Uuid) -> Result<(), sea_orm::DbErr> {
    use sea_orm::TransactionTrait;
    async {
        let txn = db.begin().await?;
        let backend = txn.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO event (id, kind, subject_id, organization_ids, topic_ids, audience, created_at) \
                 VALUES ($1, 'bench.write', $2, '[]', '[]', '[]', $3)"
            }
            _ => {
                "INSERT INTO event (id, kind, subject_id, organization_ids, topic_ids, audience, created_at) \
                 VALUES (?, 'bench.write', ?, '[]', '[]', '[]', ?)"
            }
        };
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [id.into(), id.into(), chrono::Utc::now().into()],
        ))
        .await?;
        txn.commit().await
    }
    .await
}
