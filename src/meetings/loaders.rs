//! Batched loads for the nested fields of meetings.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::news_post;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// The latest published report of each meeting, keyed by meeting id: one statement for a whole
/// list of meetings.
pub struct ReportByMeeting(pub DatabaseConnection);

impl Loader<Uuid> for ReportByMeeting {
    type Value = news_post::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = news_post::Entity::find()
            .filter(news_post::Column::MeetingId.is_in(keys.iter().copied()))
            .filter(news_post::Column::PublishedAt.is_not_null())
            .order_by_asc(news_post::Column::PublishedAt)
            .all(&self.0)
            .await?;
        // Oldest first, so the latest report of a meeting is the one that stays.
        Ok(rows
            .into_iter()
            .filter_map(|post| post.meeting_id.map(|meeting| (meeting, post)))
            .collect())
    }
}
