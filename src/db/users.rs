//! Reading users without the one column no reader needs.

use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, IdenStatic, QuerySelect, Select};

/// Users with every column but `password_hash`, which reads back as `None`: the select for
/// everything that shows or checks a person (the caller of a request, authors, members). Only
/// password checks read the hash, with their own query.
pub fn without_password() -> Select<user::Entity> {
    with_user_columns(user::Entity::find().select_only(), "")
}

/// Adds a user's columns to `select` (from the `user` table, joined by the caller), each named
/// `{prefix}{column}`, with `{prefix}password_hash` as NULL, so that
/// `user::Model::from_query_result(row, prefix)` reads the person back without the hash.
pub fn with_user_columns<E: EntityTrait>(mut select: Select<E>, prefix: &str) -> Select<E> {
    for column in VISIBLE {
        select = select.column_as(column, format!("{prefix}{}", column.as_str()));
    }
    select.expr_as(
        Expr::cust("CAST(NULL AS TEXT)"),
        format!("{prefix}password_hash"),
    )
}

/// Every column of a user but the password hash.
const VISIBLE: [user::Column; 14] = [
    user::Column::Id,
    user::Column::Email,
    user::Column::DisplayName,
    user::Column::Locale,
    user::Column::TimeZone,
    user::Column::DigestHour,
    user::Column::DigestWeekday,
    user::Column::IsAdmin,
    user::Column::CreatedAt,
    user::Column::UpdatedAt,
    user::Column::EmailSuspendedAt,
    user::Column::DeactivatedAt,
    user::Column::OidcSubject,
    user::Column::ErasedAt,
];

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;

    #[test]
    fn a_user_is_read_with_every_column_but_the_hash() {
        let mut expected: Vec<&str> = user::Column::iter()
            .map(|c| c.as_str())
            .filter(|c| *c != user::Column::PasswordHash.as_str())
            .collect();
        let mut visible: Vec<&str> = VISIBLE.iter().map(|c| c.as_str()).collect();
        expected.sort_unstable();
        visible.sort_unstable();
        assert_eq!(visible, expected);
    }
}
