//! One batch loader for the topics of anything that carries topics through a link table
//! (`inquiry_topic`, `question_topic`, `news_topic`, `tip_topic`, `meeting_topic`,
//! `training_topic`, `project_topic`, `announcement_topic`, `agenda_item_topic`).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{
    agenda_item_topic, announcement_topic, inquiry_topic, meeting_topic, news_topic, project_topic,
    question_topic, tip_topic, topic, training_topic,
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// A link table between owners (inquiries, tips, …) and topics.
pub trait TopicLink: EntityTrait {
    /// The owner's id column.
    const OWNER: Self::Column;
    fn owner(link: &Self::Model) -> Uuid;
    fn topic(link: &Self::Model) -> Uuid;
}

macro_rules! topic_link {
    ($entity:ident, $owner_column:ident, $owner_field:ident) => {
        impl TopicLink for $entity::Entity {
            const OWNER: Self::Column = $entity::Column::$owner_column;
            fn owner(link: &Self::Model) -> Uuid {
                link.$owner_field
            }
            fn topic(link: &Self::Model) -> Uuid {
                link.topic_id
            }
        }
    };
}

topic_link!(inquiry_topic, InquiryId, inquiry_id);
topic_link!(question_topic, QuestionId, question_id);
topic_link!(news_topic, NewsId, news_id);
topic_link!(tip_topic, TipId, tip_id);
topic_link!(meeting_topic, MeetingId, meeting_id);
topic_link!(training_topic, TrainingId, training_id);
topic_link!(project_topic, ProjectId, project_id);
topic_link!(announcement_topic, AnnouncementId, announcement_id);
topic_link!(agenda_item_topic, ItemId, item_id);

/// Topics of owners through link table `L`, keyed by owner id, by slug: two queries per batch.
pub struct TopicsOf<L>(DatabaseConnection, PhantomData<fn() -> L>);

impl<L> TopicsOf<L> {
    pub fn new(db: DatabaseConnection) -> Self {
        Self(db, PhantomData)
    }
}

impl<L> Loader<Uuid> for TopicsOf<L>
where
    L: TopicLink + Send + Sync + 'static,
    L::Model: Send + Sync,
{
    type Value = Vec<topic::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let links = L::find()
            .filter(L::OWNER.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        let topics: HashMap<Uuid, topic::Model> = topic::Entity::find()
            .filter(topic::Column::Id.is_in(links.iter().map(L::topic)))
            .order_by_asc(topic::Column::Slug)
            .all(&self.0)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let mut out: HashMap<Uuid, Self::Value> = HashMap::new();
        for link in &links {
            if let Some(t) = topics.get(&L::topic(link)) {
                out.entry(L::owner(link)).or_default().push(t.clone());
            }
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| a.slug.cmp(&b.slug));
        }
        Ok(out)
    }
}

pub type TopicsByInquiry = TopicsOf<inquiry_topic::Entity>;
pub type TopicsByQuestion = TopicsOf<question_topic::Entity>;
pub type TopicsByNews = TopicsOf<news_topic::Entity>;
pub type TopicsByTip = TopicsOf<tip_topic::Entity>;
pub type TopicsByMeeting = TopicsOf<meeting_topic::Entity>;
pub type TopicsByTraining = TopicsOf<training_topic::Entity>;
pub type TopicsByProject = TopicsOf<project_topic::Entity>;
pub type TopicsByAnnouncement = TopicsOf<announcement_topic::Entity>;
pub type TopicsByAgendaItem = TopicsOf<agenda_item_topic::Entity>;
