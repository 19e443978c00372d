use sea_orm::entity::prelude::*;

/// An announcement to staff, sent through the addressed communities' mentors.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "announcement")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The service unit or management that sends it.
    pub organization_id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// Whether it was also emailed straight to the staff of the addressed communities.
    pub email_staff: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
