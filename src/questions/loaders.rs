//! Batched loads for the nested fields of questions.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{question_topic, topic};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Topics of questions, keyed by question id.
pub struct TopicsByQuestion(pub DatabaseConnection);

impl Loader<Uuid> for TopicsByQuestion {
    type Value = Vec<topic::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let links = question_topic::Entity::find()
            .filter(question_topic::Column::QuestionId.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        let topics: HashMap<Uuid, topic::Model> = topic::Entity::find()
            .filter(topic::Column::Id.is_in(links.iter().map(|l| l.topic_id)))
            .order_by_asc(topic::Column::Slug)
            .all(&self.0)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let mut out: HashMap<Uuid, Self::Value> = HashMap::new();
        for link in links {
            if let Some(topic) = topics.get(&link.topic_id) {
                out.entry(link.question_id).or_default().push(topic.clone());
            }
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| a.slug.cmp(&b.slug));
        }
        Ok(out)
    }
}
