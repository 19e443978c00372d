use sea_orm::entity::prelude::*;

/// A community's goals and forms of activity for one year.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "community_plan")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub year: i32,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub goals: String,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub activities: String,
    pub version: i32,
    pub author_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
