use sea_orm::entity::prelude::*;

/// A user's preferred language for email and pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(2))")]
pub enum Locale {
    #[sea_orm(string_value = "fi")]
    Fi,
    #[sea_orm(string_value = "sv")]
    Sv,
    #[sea_orm(string_value = "en")]
    En,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Normalized (trimmed, lower-case) address; unique.
    #[sea_orm(unique)]
    pub email: String,
    pub display_name: String,
    pub locale: Locale,
    pub time_zone: String,
    /// Local hour (0–23) at which digests are sent.
    pub digest_hour: i32,
    /// Local weekday of weekly digests, 0 = Monday … 6 = Sunday.
    pub digest_weekday: i32,
    pub is_admin: bool,
    /// Argon2id PHC string; `None` for users who cannot log in with a password.
    pub password_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when the address bounced hard repeatedly: nothing is emailed to it until an admin
    /// resumes it.
    pub email_suspended_at: Option<DateTimeUtc>,
    /// Set when an admin (or the staff import) deactivated the account: the person cannot sign
    /// in, is emailed nothing, and what they wrote stays under their name, marked as former.
    pub deactivated_at: Option<DateTimeUtc>,
    /// The subject (`sub`) the OpenID provider knows the person by, once they signed in with
    /// single sign-on.
    #[sea_orm(unique)]
    pub oidc_subject: Option<String>,
    /// Set when an admin erased the person's personal data: the row stays so that what they
    /// wrote for their community keeps its place, without their name or address.
    pub erased_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::membership::Entity")]
    Membership,
    #[sea_orm(has_many = "super::access_token::Entity")]
    AccessToken,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Membership.def()
    }
}

impl Related<super::access_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AccessToken.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
