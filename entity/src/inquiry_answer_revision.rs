use sea_orm::entity::prelude::*;

use super::inquiry_target::TargetStatus;

/// A superseded state of a slot, kept when a new answer or decline replaces it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inquiry_answer_revision")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub target_id: Uuid,
    pub version: i32,
    pub status: TargetStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decline_reason: Option<String>,
    pub author_id: Option<Uuid>,
    /// When this version was written.
    pub written_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
