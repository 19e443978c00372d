//! Inquiries as they were after an event, read once per instance for all of its live
//! subscribers: two thousand `inquiryUpdated` subscriptions to one inquiry cost two statements
//! per event, not four thousand.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::ConnectionTrait;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::service::{self, LoadedInquiry};
use crate::error::AppResult;

/// Snapshots kept: events arrive in order, so a subscriber asks for one of the latest.
const KEPT: usize = 64;

type Snapshot = Arc<OnceCell<Option<Arc<LoadedInquiry>>>>;

/// The per-instance store, kept in the schema's data.
#[derive(Default)]
pub struct InquirySnapshots {
    recent: Mutex<VecDeque<(i64, Uuid, Snapshot)>>,
}

impl InquirySnapshots {
    /// The inquiry `id` as read after the event with sequence `seq` (`None` if it is gone).
    /// The first subscriber to ask reads it; the others wait for that read and share it.
    pub async fn after(
        &self,
        db: &impl ConnectionTrait,
        seq: i64,
        id: Uuid,
    ) -> AppResult<Option<Arc<LoadedInquiry>>> {
        let cell = {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            match recent.iter().find(|(s, i, _)| *s == seq && *i == id) {
                Some((_, _, cell)) => cell.clone(),
                None => {
                    let cell = Snapshot::default();
                    recent.push_back((seq, id, cell.clone()));
                    if recent.len() > KEPT {
                        recent.pop_front();
                    }
                    cell
                }
            }
        };
        let loaded = cell
            .get_or_try_init(|| async {
                Ok::<_, crate::error::AppError>(service::load(db, id).await?.map(Arc::new))
            })
            .await?;
        Ok(loaded.clone())
    }
}
