//! Admin view of the outbox: `deliveries` and `retryDelivery`.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::delivery;

use super::outbox;
use crate::audit::service as audit;
use crate::auth::require_admin;
use crate::changes::Done;
use crate::graphql::pagination::Page;
use crate::graphql::parse_id;
use crate::state::AppState;

/// State of one email.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::delivery::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Waiting to be sent (or to be retried).
    Pending,
    /// Accepted by the SMTP server.
    Sent,
    /// Failed permanently or too many times; an admin may retry it.
    Dead,
    /// Accepted by the SMTP server, then reported undeliverable by a delivery status
    /// notification.
    Bounced,
}

/// One email to one recipient.
pub struct Delivery(pub delivery::Model);

/// One queued or sent email (administrators only).
#[Object]
impl Delivery {
    /// The delivery's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where it is sent.
    async fn recipient_email(&self) -> &str {
        &self.0.recipient_email
    }
    /// The email kind (template), e.g. `inquiry_published`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The language it is written in.
    async fn locale(&self) -> &str {
        &self.0.locale
    }
    /// Pending, sent, dead or bounced.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }
    /// How many times sending was tried.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next try is due.
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    /// The last failure, as the SMTP server or transport reported it.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// The Message-ID header it is sent with.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }
    /// When the SMTP server accepted it.
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    /// When a delivery status notification reported it undeliverable.
    async fn bounced_at(&self) -> Option<DateTime<Utc>> {
        self.0.bounced_at
    }
    /// When it was queued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// An address that bounced hard repeatedly: nothing is emailed to it until an admin resumes it.
#[derive(SimpleObject)]
pub struct SuspendedAddress {
    /// The user whose address it is.
    pub user_id: ID,
    /// The suspended address.
    pub email: String,
    /// The user's name.
    pub display_name: String,
    /// When the last hard bounce suspended it.
    pub suspended_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct DeliveryQuery;

#[Object]
impl DeliveryQuery {
    /// Admin: the outbox, newest first, by status and recipient email.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries in this state.")] status: Option<DeliveryStatus>,
        #[graphql(desc = "Only deliveries to this address.")] recipient: Option<String>,
        #[graphql(desc = "How many to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor after which to continue.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Delivery>> {
        require_admin(ctx)?;
        let page = Page::new(first, after)?;
        let state = ctx.data::<AppState>()?;
        let rows = outbox::list(
            &state.db,
            status.map(Into::into),
            recipient.as_deref(),
            &page,
        )
        .await?;
        Ok(crate::graphql::pagination::connection(
            &page,
            rows.into_iter().map(|d| (d.id, Delivery(d))).collect(),
        ))
    }

    /// Admin: addresses suspended after repeated hard bounces, most recent first.
    async fn suspended_addresses(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<SuspendedAddress>> {
        require_admin(ctx)?;
        let state = ctx.data::<AppState>()?;
        Ok(outbox::suspended(&state.db)
            .await?
            .into_iter()
            .filter_map(|u| {
                Some(SuspendedAddress {
                    user_id: ID(u.id.to_string()),
                    suspended_at: u.email_suspended_at?,
                    email: u.email,
                    display_name: u.display_name,
                })
            })
            .collect())
    }
}

#[derive(Default)]
pub struct DeliveryMutation;

#[Object]
impl DeliveryMutation {
    /// Admin: send a dead or pending email again now, with a fresh attempt budget.
    async fn retry_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery to send again.")] id: ID,
    ) -> async_graphql::Result<Delivery> {
        let actor = require_admin(ctx)?;
        let id = parse_id("id", &id)?;
        let state = ctx.data::<AppState>()?;
        let delivery = state
            .changes
            .run(async |txn| {
                let action = audit::Action::by(actor.id(), "retryDelivery", id);
                let delivery = audit::around::<delivery::Entity, _>(txn, action, async || {
                    outbox::retry(txn, id, Utc::now()).await
                })
                .await?;
                Ok(Done {
                    value: delivery,
                    events: Vec::new(),
                    queued: 1,
                })
            })
            .await?;
        Ok(Delivery(delivery))
    }

    /// Admin: email a suspended address again (after the person's mailbox was fixed). Returns
    /// whether it was suspended.
    async fn resume_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user whose address to resume.")] user_id: ID,
    ) -> async_graphql::Result<bool> {
        let actor = require_admin(ctx)?;
        let id = parse_id("userId", &user_id)?;
        let state = ctx.data::<AppState>()?;
        let resumed = state
            .changes
            .run(async |txn| {
                let action = audit::Action::by(actor.id(), "resumeEmail", id);
                let resumed = audit::around::<entity::user::Entity, _>(txn, action, async || {
                    outbox::resume(txn, id).await
                })
                .await?;
                Ok(Done {
                    value: resumed,
                    events: Vec::new(),
                    queued: 0,
                })
            })
            .await?;
        Ok(resumed)
    }
}
