//! Batched loads for the nested fields of inquiries.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{inquiry_answer_revision, inquiry_message, inquiry_target};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
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
