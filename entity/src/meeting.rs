use sea_orm::entity::prelude::*;

/// A network meeting.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub place: Option<String>,
    pub online_url: Option<String>,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub agenda: String,
    /// iCalendar SEQUENCE: raised by every change, so calendars replace the old version.
    pub sequence: i32,
    /// Meetings scheduled together as a monthly series share this id.
    pub series_id: Option<Uuid>,
    /// What the meeting was before its last change (title, times, place, online link), for
    /// the update email to say what changed.
    pub previous: Option<Json>,
    /// When the meeting was cancelled; it stays listed, marked cancelled.
    pub cancelled_at: Option<DateTimeUtc>,
    /// Why, as the organizer wrote it.
    #[sea_orm(column_type = "Text", nullable)]
    pub cancel_reason: Option<String>,
    /// A partner network the meeting is held jointly with.
    pub partner_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
