//! Batched loads for nested directory fields, so lists never issue one query per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{membership, organization, user};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect, RelationTrait,
};
use uuid::Uuid;

use crate::db::group_by;

/// Members of organizations, keyed by organization id, with their users (without password
/// hashes).
pub struct MembersByOrganization(pub DatabaseConnection);

impl Loader<Uuid> for MembersByOrganization {
    type Value = Vec<(membership::Model, user::Model)>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut select = membership::Entity::find().select_only();
        for column in membership::Column::iter() {
            select = select.column_as(column, format!("m_{}", column.as_str()));
        }
        let rows = crate::db::users::with_user_columns(select, "u_")
            .join(JoinType::InnerJoin, membership::Relation::User.def())
            .filter(membership::Column::OrganizationId.is_in(keys.iter().copied()))
            .order_by_asc(membership::Column::CreatedAt)
            .into_model::<Member>()
            .all(&self.0)
            .await?;
        let mut out: HashMap<Uuid, Self::Value> = HashMap::new();
        for Member(m, u) in rows {
            out.entry(m.organization_id).or_default().push((m, u));
        }
        Ok(out)
    }
}

/// A membership with its user (without the password hash), read in one row.
struct Member(membership::Model, user::Model);

impl FromQueryResult for Member {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self(
            membership::Model::from_query_result(res, &format!("{pre}m_"))?,
            user::Model::from_query_result(res, &format!("{pre}u_"))?,
        ))
    }
}

/// Memberships of users, keyed by user id.
pub struct MembershipsByUser(pub DatabaseConnection);

impl Loader<Uuid> for MembershipsByUser {
    type Value = Vec<membership::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.is_in(keys.iter().copied()))
            .order_by_asc(membership::Column::CreatedAt)
            .all(&self.0)
            .await?;
        Ok(group_by(rows, |m| m.user_id))
    }
}

/// Organizations by id.
pub struct OrganizationById(pub DatabaseConnection);

impl Loader<Uuid> for OrganizationById {
    type Value = organization::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = organization::Entity::find()
            .filter(organization::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|o| (o.id, o)).collect())
    }
}

/// Users by id.
pub struct UserById(pub DatabaseConnection);

impl Loader<Uuid> for UserById {
    type Value = user::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = crate::db::users::without_password()
            .filter(user::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}
