use sea_orm::entity::prelude::*;

/// A training or community event, organised by a community, a service unit or the network.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The organising community or service unit; null when the network itself organises it.
    pub organizer_id: Option<Uuid>,
    pub title: String,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// The organiser's IANA time zone, in which its times are stated.
    pub time_zone: String,
    pub place: Option<String>,
    pub online_url: Option<String>,
    /// How many can take part; the rest wait in line.
    pub capacity: i32,
    /// iCalendar SEQUENCE: rises with every change.
    pub sequence: i32,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
