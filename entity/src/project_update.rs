use sea_orm::entity::prelude::*;

/// A progress update of a project; an outcome may be promoted to the tips bank.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_update")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub project_id: Uuid,
    pub author_id: Uuid,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// The tip this update became, once promoted (at most once).
    #[sea_orm(unique)]
    pub tip_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
