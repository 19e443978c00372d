//! What every feature's GraphQL layer shares: id parsing, pages, complexity costs, batch
//! loading, and the always-on extensions (document limits, subscription budgets, error codes).
//! The schema itself is assembled above the features, in [`crate::schema`].

mod document_limits;
mod error_codes;
mod ids;
pub mod pagination;
mod subscription_budget;

use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DbErr;
use uuid::Uuid;

pub use document_limits::{DocumentLimits, MAX_NESTING, PasswordChecks, text_nesting};
pub use error_codes::{ErrorCodes, code_of, field_of};
pub use ids::parse_id;
pub use subscription_budget::{SubscriptionBudget, SubscriptionLimits};

/// What an unpaged list (a post's topics, a community's members, an inquiry's slots) counts
/// as in a query's complexity: each of its items costs what one item's selection costs, and
/// the list is taken to be this long.
pub const UNPAGED_LIST_COST: usize = 10;

/// Complexity of a paged list: the page the arguments allow (`first`, default and cap as in
/// [`pagination::Page`]) times the cost of one item, so that nested lists multiply and one
/// request cannot ask for tens of thousands of objects.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let size = first.map_or(pagination::DEFAULT_PAGE_SIZE, |n| {
        u64::try_from(n)
            .unwrap_or(1)
            .clamp(1, pagination::MAX_PAGE_SIZE)
    });
    usize::try_from(size)
        .unwrap_or(usize::MAX)
        .saturating_mul(child_complexity.max(1))
}

/// Complexity of an unpaged list (see [`UNPAGED_LIST_COST`]).
pub fn list_cost(child_complexity: usize) -> usize {
    UNPAGED_LIST_COST.saturating_mul(child_complexity.max(1))
}

/// Loads one key through the request's batch loader `L`; database failures become
/// `UNAVAILABLE` or `INTERNAL` like any other.
pub async fn load_one<L>(ctx: &Context<'_>, key: Uuid) -> async_graphql::Result<Option<L::Value>>
where
    L: Loader<Uuid, Error = Arc<DbErr>>,
{
    ctx.data::<DataLoader<L>>()?
        .load_one(key)
        .await
        .map_err(|err| AppError::from(Arc::unwrap_or_clone(err)).into())
}

use crate::error::AppError;
