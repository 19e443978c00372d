//! One message that arrived at a reply or bounce address, and what became of it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_mail")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 (hex) of the message's Message-ID (or its bytes) and the address it came to: a
    /// message the mail server hands over twice is handled once.
    #[sea_orm(unique)]
    pub dedupe_key: String,
    /// The reply or bounce address it arrived at.
    pub address: String,
    /// The `From` address (a bounce's envelope sender is empty).
    pub sender: String,
    /// The email it answers or reports on.
    pub delivery_id: Option<Uuid>,
    /// `applied`, `refused`, `dropped` (auto-replies) or `bounce`.
    pub outcome: String,
    /// What was applied, or why not.
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
