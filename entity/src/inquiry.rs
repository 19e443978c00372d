use sea_orm::entity::prelude::*;

/// Lifecycle of an inquiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InquiryStatus {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "closed")]
    Closed,
}

/// A request for views or needs from management or a service unit to communities.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inquiry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The inquiring organization (management or a service unit).
    pub organization_id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    /// Markdown.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub deadline: Option<DateTimeUtc>,
    pub status: InquiryStatus,
    /// Addressed to every community.
    pub all_communities: bool,
    /// Communities may read each other's answers while the inquiry is open.
    pub answers_shared: bool,
    pub published_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::inquiry_target::Entity")]
    InquiryTarget,
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::inquiry_target::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::InquiryTarget.def()
    }
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
