//! Batched loads for the nested fields of inquiries.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{inquiry_answer_revision, inquiry_message, inquiry_target, organization, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect,
};
use uuid::Uuid;

use crate::db::group_by;

/// Slots of inquiries, keyed by inquiry id, in creation order.
pub struct TargetsByInquiry(pub DatabaseConnection);

impl Loader<Uuid> for TargetsByInquiry {
    type Value = Vec<inquiry_target::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = inquiry_target::Entity::find()
            .filter(inquiry_target::Column::InquiryId.is_in(keys.iter().copied()))
            .order_by_asc(inquiry_target::Column::CreatedAt)
            .order_by_asc(inquiry_target::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group_by(rows, |t| t.inquiry_id))
    }
}

/// Thread messages, keyed by slot id, oldest first.
pub struct MessagesByTarget(pub DatabaseConnection);

impl Loader<Uuid> for MessagesByTarget {
    type Value = Vec<inquiry_message::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = inquiry_message::Entity::find()
            .filter(inquiry_message::Column::TargetId.is_in(keys.iter().copied()))
            .order_by_asc(inquiry_message::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group_by(rows, |m| m.target_id))
    }
}

/// Superseded answers, keyed by slot id, oldest first.
pub struct RevisionsByTarget(pub DatabaseConnection);

impl Loader<Uuid> for RevisionsByTarget {
    type Value = Vec<inquiry_answer_revision::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = inquiry_answer_revision::Entity::find()
            .filter(inquiry_answer_revision::Column::TargetId.is_in(keys.iter().copied()))
            .order_by_asc(inquiry_answer_revision::Column::Version)
            .all(&self.0)
            .await?;
        Ok(group_by(rows, |r| r.target_id))
    }
}

/// A slot with the community it addresses and the person who answered it, read together for a
/// page of inquiries (see [`slots_of_page`]).
pub struct JoinedSlot {
    pub slot: inquiry_target::Model,
    pub community: organization::Model,
    /// `None` while pending, or when the answerer's account is gone.
    pub answerer: Option<user::Model>,
}

impl FromQueryResult for JoinedSlot {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            slot: inquiry_target::Model::from_query_result(res, &format!("{pre}t_"))?,
            community: organization::Model::from_query_result(res, &format!("{pre}o_"))?,
            answerer: <Option<user::Model>>::from_query_result(res, &format!("{pre}u_"))?,
        })
    }
}

/// The slots of `inquiries` with their communities and answerers (without password hashes), in
/// one statement, in creation order. A page of inquiries reads them here at once, so its cost
/// is the same however busy the server is (batch loaders split under load, see the README's
/// Performance section).
#[tracing::instrument(skip_all, fields(inquiries = inquiries.len()))]
pub async fn slots_of_page(
    db: &impl ConnectionTrait,
    inquiries: &[Uuid],
) -> Result<Vec<JoinedSlot>, DbErr> {
    if inquiries.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = inquiry_target::Entity::find().select_only();
    for column in inquiry_target::Column::iter() {
        select = select.column_as(column, format!("t_{}", column.as_str()));
    }
    for column in organization::Column::iter() {
        select = select.column_as(column, format!("o_{}", column.as_str()));
    }
    crate::db::users::with_user_columns(select, "u_")
        .join(
            JoinType::InnerJoin,
            inquiry_target::Entity::belongs_to(organization::Entity)
                .from(inquiry_target::Column::CommunityId)
                .to(organization::Column::Id)
                .into(),
        )
        .join(
            JoinType::LeftJoin,
            inquiry_target::Entity::belongs_to(user::Entity)
                .from(inquiry_target::Column::AnsweredBy)
                .to(user::Column::Id)
                .into(),
        )
        .filter(inquiry_target::Column::InquiryId.is_in(inquiries.iter().copied()))
        .order_by_asc(inquiry_target::Column::CreatedAt)
        .order_by_asc(inquiry_target::Column::Id)
        .into_model::<JoinedSlot>()
        .all(db)
        .await
}
