//! Relay cursor connections built from a [`Page`] of rows.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge};
use uuid::Uuid;

pub use crate::db::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, encode_cursor};

/// Builds the connection from up to `page.fetch_limit()` rows, newest first.
pub fn connection<T: OutputType>(page: &Page, mut rows: Vec<(Uuid, T)>) -> Connection<String, T> {
    let has_next = rows.len() as u64 > page.size;
    rows.truncate(page.size as usize);
    let mut connection = Connection::new(page.after.is_some(), has_next);
    connection.edges.extend(
        rows.into_iter()
            .map(|(key, node)| Edge::new(encode_cursor(key), node)),
    );
    connection
}
