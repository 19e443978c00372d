use sea_orm::entity::prelude::*;

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RegistrationStatus {
    /// Has a place.
    #[sea_orm(string_value = "registered")]
    Registered,
    /// On the waiting list, in `position` order.
    #[sea_orm(string_value = "waiting")]
    Waiting,
    /// Cancelled by the person.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

/// One person's registration for a training; one row per person and training.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_registration")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub training_id: Uuid,
    pub user_id: Uuid,
    pub status: RegistrationStatus,
    /// The order of registering for this training (1, 2, …); the waiting list moves up in it.
    pub position: i64,
    pub registered_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
