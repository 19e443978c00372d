use sea_orm::entity::prelude::*;

/// State of one community's slot in an inquiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TargetStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "answered")]
    Answered,
    #[sea_orm(string_value = "declined")]
    Declined,
}

/// One addressed community's slot: its answer (or reason to decline) and its version.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inquiry_target")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub inquiry_id: Uuid,
    pub community_id: Uuid,
    pub status: TargetStatus,
    /// Markdown answer, when answered.
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decline_reason: Option<String>,
    /// Raised by every answer or decline; guards against silent overwrites.
    pub version: i32,
    pub answered_by: Option<Uuid>,
    pub answered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::inquiry::Entity",
        from = "Column::InquiryId",
        to = "super::inquiry::Column::Id",
        on_delete = "Cascade"
    )]
    Inquiry,
}

impl Related<super::inquiry::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Inquiry.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
