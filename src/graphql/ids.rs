use async_graphql::ID;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Parses a public id; a malformed one is `BAD_USER_INPUT` on `field`.
pub fn parse_id(field: &str, id: &ID) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| AppError::bad_input(field, format!("{:?} is not a valid id", id.as_str())))
}
