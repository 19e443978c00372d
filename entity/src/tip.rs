use sea_orm::entity::prelude::*;

/// A good practice in the tips bank.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tip")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub author_id: Uuid,
    /// The originating community (or service unit).
    pub organization_id: Uuid,
    pub title: String,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// The inquiry slot whose answer was promoted to this tip, if any (at most once).
    #[sea_orm(unique)]
    pub source_target_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
