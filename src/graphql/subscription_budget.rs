//! A WebSocket connection may run a limited number of operations at once
//! (`WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`): each one holds a stream, a start-up read of the
//! event log and a share of every fan-out, so one socket must not open thousands.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::Response;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextSubscribe};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::error_codes::coded_error;
use crate::error::ErrorCode;

/// The budget of one connection, put into its connection data when it is initialised.
#[derive(Clone)]
pub struct SubscriptionBudget {
    active: Arc<AtomicUsize>,
    max: usize,
}

impl SubscriptionBudget {
    pub fn new(max: usize) -> Self {
        Self {
            active: Arc::default(),
            max,
        }
    }

    /// Operations running now on the connection.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    fn take(&self) -> Option<Taken> {
        let previous = self.active.fetch_add(1, Ordering::SeqCst);
        let taken = Taken(self.active.clone());
        (previous < self.max).then_some(taken)
    }
}

/// A running operation's share of the budget, given back when its stream ends or is dropped.
struct Taken(Arc<AtomicUsize>);

impl Drop for Taken {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The extension factory to register on the schema.
pub struct SubscriptionLimits;

impl ExtensionFactory for SubscriptionLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SubscriptionLimitsExtension)
    }
}

struct SubscriptionLimitsExtension;

impl Extension for SubscriptionLimitsExtension {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let Some(budget) = ctx.data_opt::<SubscriptionBudget>() else {
            return next.run(ctx, stream);
        };
        match budget.take() {
            Some(taken) => next
                .run(ctx, stream)
                .map(move |response| {
                    let _held = &taken;
                    response
                })
                .boxed(),
            None => {
                let error = coded_error(
                    format!(
                        "At most {} subscriptions may run at once on one connection.",
                        budget.max
                    ),
                    ErrorCode::RateLimited,
                    None,
                );
                futures_util::stream::once(async move { Response::from_errors(vec![error]) })
                    .boxed()
            }
        }
    }
}
