use sea_orm::entity::prelude::*;

/// A post in the news column; a meeting report links to its meeting.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "news_post")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// Set for meeting reports.
    pub meeting_id: Option<Uuid>,
    /// The partner network the news comes from, if any.
    pub partner_id: Option<Uuid>,
    /// `None` while unpublished (withdrawn).
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
