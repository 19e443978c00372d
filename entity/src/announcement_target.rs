use sea_orm::entity::prelude::*;

/// One addressed community of an announcement, and whether its mentors relayed it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "announcement_target")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub announcement_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: Uuid,
    /// The mentor who marked it relayed.
    pub relayed_by: Option<Uuid>,
    pub relayed_at: Option<DateTimeUtc>,
    /// How it was relayed ("staff mailing list", "unit meeting").
    pub how: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
