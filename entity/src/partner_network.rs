use sea_orm::entity::prelude::*;

/// How far a partner network reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PartnerScope {
    /// The university or its city.
    #[sea_orm(string_value = "local")]
    Local,
    /// Across the country.
    #[sea_orm(string_value = "national")]
    National,
    /// Across countries.
    #[sea_orm(string_value = "international")]
    International,
}

/// Another network, local or national, that the network works with.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_network")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    /// The name the partner network uses of itself.
    pub name: String,
    pub scope: PartnerScope,
    /// Markdown; may be empty.
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// The partner network's own site.
    pub url: Option<String>,
    /// Its contact people, in order: `[{ "name", "email", "title" }]`.
    pub contacts: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
