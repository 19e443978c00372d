//! The same-run baseline: a bare axum server with no middleware, answering what the service
//! answers in the cheapest way possible. Figures are reported as ratios against it, which
//! survive a noisy machine better than absolute numbers.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

pub async fn serve(database_url: &str) -> anyhow::Result<()> {
    let db = digimentor::db::connect(database_url, &Default::default()).await?;
    let app = Router::new()
        .route("/graphql", post(typename))
        .route("/inquiry/{id}", get(inquiry))
        .route("/inquiries", get(inquiries))
        .route("/write", post(write))
        .with_state(db);
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
    use sea_orm::TransactionTrait;
    let id = uuid::Uuid::now_v7();
    let written = async {
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
    .await;
    Json(json!({ "data": { "written": written.is_ok() } }))
}
