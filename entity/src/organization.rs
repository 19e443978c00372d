use sea_orm::entity::prelude::*;

/// What kind of organization this is. Faculties and education units are communities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum OrganizationKind {
    #[sea_orm(string_value = "faculty")]
    Faculty,
    #[sea_orm(string_value = "education_unit")]
    EducationUnit,
    #[sea_orm(string_value = "service_unit")]
    ServiceUnit,
    #[sea_orm(string_value = "management")]
    Management,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub kind: OrganizationKind,
    pub name_fi: String,
    pub name_sv: String,
    pub name_en: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::membership::Entity")]
    Membership,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Membership.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
