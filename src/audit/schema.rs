//! `auditLog`: what administrators did, for administrators.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::audit_entry;

use super::service;
use crate::auth::require_admin;
use crate::directory::loaders::UserById;
use crate::directory::schema::Person;
use crate::graphql::pagination::Page;
use crate::graphql::{load_one, parse_id};
use crate::state::AppState;

/// An entry of the audit log.
pub struct AuditEntry(pub audit_entry::Model);

/// One administrator action: who, what, when, and the record before and after.
#[Object]
impl AuditEntry {
    /// The entry's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What was done: the mutation's name, e.g. `updateOrganization`, or the command's.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// Who did it; `null` for the operator's command line (or a person since erased).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        let Some(id) = self.0.actor_id else {
            return Ok(None);
        };
        Ok(load_one::<UserById>(ctx, id)
            .await?
            .map(Person::participant))
    }
    /// The id of the record it was done to.
    async fn subject_id(&self) -> Option<ID> {
        self.0.subject_id.map(|id| ID(id.to_string()))
    }
    /// The record before, as a JSON object (`null` for something created).
    async fn before(&self) -> Option<&str> {
        self.0.before.as_deref()
    }
    /// The record after, as a JSON object (`null` for something deleted).
    async fn after(&self) -> Option<&str> {
        self.0.after.as_deref()
    }
    /// When it was done.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Admin: the audit log, newest first, optionally of one action or about one record.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this action, e.g. `deactivateUser`.")] action: Option<String>,
        #[graphql(desc = "Only actions on this record.")] subject_id: Option<ID>,
        #[graphql(desc = "How many to return (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor after which to continue.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEntry>> {
        require_admin(ctx)?;
        let page = Page::new(first, after)?;
        let subject = subject_id
            .map(|id| parse_id("subjectId", &id))
            .transpose()?;
        let state = ctx.data::<AppState>()?;
        let rows = service::list(&state.db, action.as_deref(), subject, &page).await?;
        Ok(crate::graphql::pagination::connection(
            &page,
            rows.into_iter().map(|e| (e.id, AuditEntry(e))).collect(),
        ))
    }
}
