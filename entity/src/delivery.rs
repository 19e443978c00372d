use sea_orm::entity::prelude::*;

/// State of one email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "dead")]
    Dead,
    /// Sent, but a delivery status notification said it could not be delivered.
    #[sea_orm(string_value = "bounced")]
    Bounced,
}

/// One email to one recipient for one reason (the transactional outbox).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique per (recipient, reason, period): inserting the same key twice is a no-op.
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub recipient_id: Uuid,
    pub recipient_email: String,
    /// `fi`, `sv` or `en`.
    pub locale: String,
    /// The template, e.g. `inquiry_published`.
    pub kind: String,
    /// The inquiry or question the email is about; emails about one thread share a root id.
    pub thread_id: Option<Uuid>,
    /// Everything the template needs, captured when the change committed.
    pub payload: Json,
    pub reply_to: Option<String>,
    pub event_id: Option<Uuid>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A worker's claim; another worker may take the delivery after it passes.
    pub claimed_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub message_id: String,
    pub sent_at: Option<DateTimeUtc>,
    /// When a delivery status notification reported it undeliverable.
    pub bounced_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
