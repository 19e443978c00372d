//! Pages over UUIDv7 keys, newest first, `first`/`after`, capped: what a service needs to read
//! one page of a list. The GraphQL connection is built from it in `graphql::pagination`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub size: u64,
    /// Return rows strictly older than this key.
    pub after: Option<Uuid>,
}

impl Page {
    /// Validates `first` (1..=100) and decodes `after`.
    pub fn new(first: Option<i32>, after: Option<String>) -> AppResult<Self> {
        let size = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n >= 1 && (n as u64) <= MAX_PAGE_SIZE => n as u64,
            Some(_) => {
                return Err(AppError::bad_input(
                    "first",
                    format!("must be between 1 and {MAX_PAGE_SIZE}"),
                ));
            }
        };
        let after = after.map(|cursor| decode_cursor(&cursor)).transpose()?;
        Ok(Self { size, after })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }
}

pub fn encode_cursor(key: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode_cursor(cursor: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input("after", "is not a cursor from this list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_pages_are_capped() {
        let key = Uuid::now_v7();
        let page = Page::new(Some(5), Some(encode_cursor(key))).unwrap();
        assert_eq!(page.after, Some(key));
        assert_eq!(page.fetch_limit(), 6);
        assert!(Page::new(Some(0), None).is_err());
        assert!(Page::new(Some(1_000_000), None).is_err());
        assert!(Page::new(None, Some("garbage".into())).is_err());
        assert_eq!(Page::new(None, None).unwrap().size, DEFAULT_PAGE_SIZE);
    }
}
