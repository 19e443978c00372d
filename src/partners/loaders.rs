//! Batched loads of partner networks for the things that name one.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::partner_network;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Partner networks by id: one statement for a whole list of meetings or posts.
pub struct PartnerById(pub DatabaseConnection);

impl Loader<Uuid> for PartnerById {
    type Value = partner_network::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(partner_network::Entity::find()
            .filter(partner_network::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect())
    }
}
