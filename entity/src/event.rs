use sea_orm::entity::prelude::*;

/// One entry of the append-only event log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event")]
pub struct Model {
    /// Monotonically increasing sequence number.
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    /// Dotted kind, e.g. `organization.created`.
    pub kind: String,
    pub actor_id: Option<Uuid>,
    pub subject_id: Uuid,
    /// The specific part of the subject, e.g. the slot of an inquiry or a thread message.
    pub object_id: Option<Uuid>,
    /// JSON array of the organization ids the event concerns.
    pub organization_ids: Json,
    /// JSON array of the topic ids the event concerns.
    pub topic_ids: Json,
    /// JSON array of who may read the event (see the service crate's `events::audience`).
    pub audience: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
