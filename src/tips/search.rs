//! Full-text search of tips: PostgreSQL text search (a weighted, generated `tsvector`) or
//! SQLite FTS5 (bm25 with the title weighted ten times the body). Words are matched as written
//! and as prefixes (`tentti` finds `tentti` and `tenttien`), so Finnish and English both work
//! without a stemmer.

use sea_orm::{ConnectionTrait, DbBackend, Statement, TryGetable};
use uuid::Uuid;

use crate::error::AppResult;

/// At most this many words of a query are used.
const MAX_WORDS: usize = 8;
/// Ranked candidates fetched before topic filtering.
pub const MAX_CANDIDATES: u64 = 200;

/// The searchable words of a query: letters and digits only, lower-cased.
pub fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(MAX_WORDS)
        .collect()
}

/// Tip ids matching every word, best first.
pub async fn ranked_ids(db: &impl ConnectionTrait, words: &[String]) -> AppResult<Vec<Uuid>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => {
            let query = words
                .iter()
                .map(|w| format!("{w}:*"))
                .collect::<Vec<_>>()
                .join(" & ");
            Statement::from_sql_and_values(
                backend,
                "SELECT id FROM tip WHERE search @@ to_tsquery('simple', $1) \
                 ORDER BY ts_rank(search, to_tsquery('simple', $1)) DESC, id DESC LIMIT $2",
                [query.into(), (MAX_CANDIDATES as i64).into()],
            )
        }
        _ => {
            let query = words
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" ");
            Statement::from_sql_and_values(
                backend,
                "SELECT tip_id AS id FROM tip_fts WHERE tip_fts MATCH ? \
                 ORDER BY bm25(tip_fts, 0.0, 10.0, 1.0) LIMIT ?",
                [query.into(), (MAX_CANDIDATES as i64).into()],
            )
        }
    };
    let rows = db.query_all_raw(statement).await?;
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let id = match backend {
            DbBackend::Postgres => Uuid::try_get(&row, "", "id").ok(),
            _ => String::try_get(&row, "", "id")
                .ok()
                .and_then(|s| Uuid::parse_str(&s).ok()),
        };
        ids.extend(id);
    }
    Ok(ids)
}

/// Keeps SQLite's FTS5 index in step with a tip (PostgreSQL's is a generated column).
pub async fn index(db: &impl ConnectionTrait, id: Uuid, title: &str, body: &str) -> AppResult<()> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "DELETE FROM tip_fts WHERE tip_id = ?",
        [id.to_string().into()],
    ))
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO tip_fts (tip_id, title, body) VALUES (?, ?, ?)",
        [id.to_string().into(), title.into(), body.into()],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_safe_words() {
        assert_eq!(
            words("Tentti & \"exam\" OR *drop table*"),
            ["tentti", "exam", "or", "drop", "table"]
        );
        assert_eq!(words("  äänitys-laitteet "), ["äänitys", "laitteet"]);
        assert!(words("'; --").is_empty());
        assert_eq!(words(&"a ".repeat(50)).len(), MAX_WORDS);
    }
}
