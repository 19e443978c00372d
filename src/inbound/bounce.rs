//! Delivery status notifications (RFC 3464) arriving at `bounce+<token>@`: a permanent failure
//! marks that delivery bounced, and an address that bounced hard [`SUSPEND_AFTER`] times within
//! [`SUSPEND_WINDOW_DAYS`] is suspended: nothing more is emailed to it until an admin resumes it.

use chrono::{Duration, Utc};
use entity::delivery::{self, DeliveryStatus};
use entity::user;
use mail_parser::{Message, MimeHeaders};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::changes::Done;
use crate::error::AppResult;
use crate::state::AppState;

/// Hard bounces of one recipient within the window that suspend their address.
pub const SUSPEND_AFTER: u64 = 3;
pub const SUSPEND_WINDOW_DAYS: i64 = 30;

/// What a delivery status notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// A permanent failure (`Action: failed`, `Status: 5.x.x`).
    pub hard: bool,
    /// `Status` and `Diagnostic-Code`, as reported.
    pub detail: String,
}

/// Reads the `message/delivery-status` part; `None` when the message has none (an
/// out-of-office sent to the envelope sender, say).
pub fn report(message: &Message<'_>) -> Option<Report> {
    let part = message.parts.iter().find(|part| {
        part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))
        })
    })?;
    let text = String::from_utf8_lossy(part.contents());
    let mut hard = false;
    let mut action = String::new();
    let mut details = Vec::new();
    // Per-message fields, then one block per recipient; unfold continuation lines.
    for line in text
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ")
        .lines()
    {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "action" => action = value.to_ascii_lowercase(),
            "status" => {
                if action == "failed" && value.starts_with('5') {
                    hard = true;
                }
                details.push(format!("{action} {value}"));
            }
            "diagnostic-code" => details.push(value.to_owned()),
            _ => {}
        }
    }
    Some(Report {
        hard,
        detail: details.join("; "),
    })
}

/// Records a notification about `delivery_id` (row `row` of `inbound_mail`).
pub async fn record(
    state: &AppState,
    row: Uuid,
    delivery_id: Uuid,
    message: &Message<'_>,
) -> AppResult<()> {
    let report = report(message);
    let now = Utc::now();
    state
        .changes
        .run(async |txn| {
            let (outcome, detail) = match &report {
                Some(report) if report.hard => ("bounce", report.detail.clone()),
                Some(report) => ("delayed", report.detail.clone()),
                None => ("dropped", "no delivery status in the message".to_owned()),
            };
            if report.as_ref().is_some_and(|r| r.hard) {
                let bounced = delivery::Entity::update_many()
                    .col_expr(
                        delivery::Column::Status,
                        Expr::value(DeliveryStatus::Bounced),
                    )
                    .col_expr(delivery::Column::BouncedAt, Expr::value(Some(now)))
                    .col_expr(
                        delivery::Column::LastError,
                        Expr::value(Some(detail.chars().take(1000).collect::<String>())),
                    )
                    .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
                    .filter(delivery::Column::Id.eq(delivery_id))
                    .filter(delivery::Column::Status.eq(DeliveryStatus::Sent))
                    .exec_with_returning(txn)
                    .await?;
                if let Some(bounced) = bounced.first() {
                    let recent = delivery::Entity::find()
                        .filter(delivery::Column::RecipientId.eq(bounced.recipient_id))
                        .filter(delivery::Column::Status.eq(DeliveryStatus::Bounced))
                        .filter(
                            delivery::Column::BouncedAt
                                .gt(now - Duration::days(SUSPEND_WINDOW_DAYS)),
                        )
                        .count(txn)
                        .await?;
                    if recent >= SUSPEND_AFTER {
                        user::Entity::update_many()
                            .col_expr(user::Column::EmailSuspendedAt, Expr::value(Some(now)))
                            .filter(user::Column::Id.eq(bounced.recipient_id))
                            .filter(user::Column::EmailSuspendedAt.is_null())
                            .exec(txn)
                            .await?;
                        tracing::warn!(user = %bounced.recipient_id, bounces = recent, "email address suspended after repeated hard bounces");
                    }
                }
            }
            super::record_outcome(txn, row, outcome, &detail).await?;
            Ok(Done {
                value: (),
                events: Vec::new(),
                queued: 0,
            })
        })
        .await
}
