//! Reading users without the one column no reader needs.

use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, QuerySelect, Select};

/// Users with every column but `password_hash`, which reads back as `None`: the select for
/// everything that shows or checks a person (the caller of a request, authors, members). Only
/// password checks read the hash, with their own query.
pub fn without_password() -> Select<user::Entity> {
    user::Entity::find()
        .select_only()
        .columns(VISIBLE)
        .expr_as(Expr::cust("CAST(NULL AS TEXT)"), "password_hash")
}

/// The columns of [`without_password`], for joins that select them under other names.
pub const VISIBLE: [user::Column; 11] = [
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
];
