use sea_orm::entity::prelude::*;

/// Where an item of the network's agenda stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AgendaStatus {
    /// Proposed; mentors may support it.
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// Placed on a meeting's agenda by the chair.
    #[sea_orm(string_value = "on_agenda")]
    OnAgenda,
    /// Handled at its meeting; the report names it.
    #[sea_orm(string_value = "handled")]
    Handled,
}

/// An item a mentor proposes for the network's meeting.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agenda_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    /// Markdown; may be empty.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub proposed_by: Uuid,
    pub status: AgendaStatus,
    /// The meeting whose agenda it is on.
    pub meeting_id: Option<Uuid>,
    /// Its place on that agenda, from 0.
    pub position: Option<i32>,
    /// The meeting report that recorded it handled.
    pub report_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
