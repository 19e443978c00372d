use sea_orm::entity::prelude::*;

/// Where a development project stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProjectStatus {
    #[sea_orm(string_value = "planned")]
    Planned,
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "finished")]
    Finished,
}

/// A development project or group of a community.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    /// What it sets out to do (Markdown).
    #[sea_orm(column_type = "Text")]
    pub goal: String,
    /// The year of the community plan whose goal it serves.
    pub plan_year: Option<i32>,
    /// That goal, as the plan words it.
    pub plan_goal: Option<String>,
    pub status: ProjectStatus,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    /// Visible only to the community (and admins) instead of everyone.
    pub internal: bool,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
