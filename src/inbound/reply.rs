//! A reply by email becomes what the replier could do on the web, through the API's own
//! mutations run as them: a mentor's answer to their unit's pending slot, a message in a slot's
//! conversation, or the answer to a question. Whoever replied is told what became of it.

use chrono::Utc;
use entity::delivery;
use entity::inquiry_target::{self, TargetStatus};
use entity::membership::Role;
use entity::user::{self, Locale};
use mail_parser::Message;
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Inbound;
use super::text::reply_text;
use crate::auth::service::viewer_for_user;
use crate::changes::Done;
use crate::error::{AppError, AppResult};
use crate::graphql::code_of;
use crate::notify::Template;
use crate::notify::outbox;
use crate::notify::payloads::{ReplyMail, to_payload};
use crate::notify::rules::NewDelivery;
use crate::schema::request_loaders;

const ANSWER_SLOT: &str = "mutation($t: ID!, $b: String!, $v: Int!) { \
    answerInquiry(input: {targetId: $t, body: $b, expectedVersion: $v}) { id } }";
const SLOT_MESSAGE: &str = "mutation($t: ID!, $b: String!) { \
    postInquiryMessage(input: {targetId: $t, body: $b}) { id } }";
const ANSWER_QUESTION: &str = "mutation($q: ID!, $b: String!) { \
    answerQuestion(input: {questionId: $q, body: $b}) { id } }";

/// What a reply becomes.
enum Action {
    AnswerSlot { target: Uuid, version: i32 },
    SlotMessage { target: Uuid },
    AnswerQuestion { question: Uuid },
}

impl Action {
    fn outcome(&self) -> &'static str {
        match self {
            Self::AnswerSlot { .. } => "answer",
            Self::SlotMessage { .. } => "message",
            Self::AnswerQuestion { .. } => "question",
        }
    }
}

/// Why a reply was not applied (the `reason` of `reply_refused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Sender,
    Expired,
    Empty,
    Unsupported,
    Role,
    Closed,
    Invalid,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sender => "sender",
            Self::Expired => "expired",
            Self::Empty => "empty",
            Self::Unsupported => "unsupported",
            Self::Role => "role",
            Self::Closed => "closed",
            Self::Invalid => "invalid",
        }
    }
}

/// Applies one reply and records what became of it (`inbound_mail` row `row`). An error means
/// nothing was applied and the message should be offered again later.
pub async fn apply(
    inbound: &Inbound,
    row: Uuid,
    delivery_id: Uuid,
    envelope_from: &str,
    sender: &str,
    message: &Message<'_>,
) -> AppResult<()> {
    let db = &inbound.state.db;
    if let Some(why) = automatic(envelope_from, message) {
        // An out-of-office or another machine's answer: no reply to it, so no loop.
        return finish(inbound, row, "dropped", why, None).await;
    }
    let Some(original) = delivery::Entity::find_by_id(delivery_id).one(db).await? else {
        return refuse(
            inbound,
            row,
            sender,
            None,
            Refusal::Expired,
            "no such email",
        )
        .await;
    };
    let recipient = user::Entity::find_by_id(original.recipient_id)
        .one(db)
        .await?;
    // A deactivated person's replies act on nothing.
    let Some(recipient) =
        recipient.filter(|u| u.email.eq_ignore_ascii_case(sender) && u.deactivated_at.is_none())
    else {
        let detail = format!("sent to {}, reply from {sender}", original.recipient_email);
        return refuse(
            inbound,
            row,
            sender,
            Some(&original),
            Refusal::Sender,
            &detail,
        )
        .await;
    };
    let plain = message
        .text_bodies()
        .find(|part| !part.is_text_html())
        .and_then(|part| part.text_contents());
    let html = message
        .html_bodies()
        .find(|part| part.is_text_html())
        .and_then(|part| part.text_contents());
    let text = reply_text(plain, html);
    if text.is_empty() {
        return refuse(inbound, row, sender, Some(&original), Refusal::Empty, "").await;
    }
    let viewer = viewer_for_user(db, recipient.clone()).await?;
    let action = match action_for(inbound, &original, &viewer).await? {
        Ok(action) => action,
        Err(refusal) => {
            return refuse(inbound, row, sender, Some(&original), refusal, "").await;
        }
    };
    let (operation, variables) = match &action {
        Action::AnswerSlot { target, version } => (
            ANSWER_SLOT,
            json!({ "t": target.to_string(), "b": text, "v": version }),
        ),
        Action::SlotMessage { target } => {
            (SLOT_MESSAGE, json!({ "t": target.to_string(), "b": text }))
        }
        Action::AnswerQuestion { question } => (
            ANSWER_QUESTION,
            json!({ "q": question.to_string(), "b": text }),
        ),
    };
    let mut request = async_graphql::Request::new(operation)
        .variables(async_graphql::Variables::from_json(variables));
    request.data = request_loaders(&inbound.state);
    request.data.insert(viewer);
    let response = inbound.schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        let code = code_of(std::slice::from_ref(error)).unwrap_or_default();
        let refusal = match code.as_str() {
            "UNAVAILABLE" => {
                return Err(AppError::Unavailable(error.message.clone().into()));
            }
            "FORBIDDEN" | "UNAUTHENTICATED" => Refusal::Role,
            "CONFLICT" => Refusal::Closed,
            "NOT_FOUND" => Refusal::Expired,
            _ => Refusal::Invalid,
        };
        let detail = format!("{code}: {}", error.message);
        return refuse(inbound, row, sender, Some(&original), refusal, &detail).await;
    }
    let receipt = NewDelivery {
        dedupe_key: format!("reply_recorded:{row}"),
        payload: to_payload(&ReplyMail {
            title: title_of(&original),
            outcome: Some(action.outcome().to_owned()),
            reason: None,
            text: Some(text),
            link: link_to(inbound, &original),
        }),
        recipient,
        template: Template::ReplyRecorded,
        thread_id: None,
        reply_to: None,
        event_id: None,
    };
    finish(inbound, row, "applied", action.outcome(), Some(receipt)).await
}

/// What the reply to `original` becomes for `viewer`, or why it cannot become anything.
async fn action_for(
    inbound: &Inbound,
    original: &delivery::Model,
    viewer: &crate::auth::Viewer,
) -> AppResult<Result<Action, Refusal>> {
    let db = &inbound.state.db;
    let Some(template) = Template::from_name(&original.kind).filter(|t| t.accepts_replies()) else {
        return Ok(Err(Refusal::Unsupported));
    };
    let Some(thread) = original.thread_id else {
        return Ok(Err(Refusal::Unsupported));
    };
    match template {
        Template::QuestionSubmitted | Template::QuestionForwarded => {
            Ok(Ok(Action::AnswerQuestion { question: thread }))
        }
        _ => {
            let targets = inquiry_target::Entity::find()
                .filter(inquiry_target::Column::InquiryId.eq(thread))
                .all(db)
                .await?;
            let named = original
                .payload
                .get("target_id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok());
            let target = match named {
                Some(id) => targets.into_iter().find(|t| t.id == id),
                None => {
                    // The invitation names no slot: the one of the unit the replier mentors.
                    let mine: Vec<_> = targets
                        .into_iter()
                        .filter(|t| viewer.holds(t.community_id, Role::Mentor))
                        .collect();
                    match mine.len() {
                        0 => return Ok(Err(Refusal::Role)),
                        1 => mine.into_iter().next(),
                        _ => return Ok(Err(Refusal::Unsupported)),
                    }
                }
            };
            let Some(target) = target else {
                return Ok(Err(Refusal::Expired));
            };
            Ok(Ok(
                if target.status == TargetStatus::Pending
                    && viewer.holds(target.community_id, Role::Mentor)
                {
                    Action::AnswerSlot {
                        target: target.id,
                        version: target.version,
                    }
                } else {
                    Action::SlotMessage { target: target.id }
                },
            ))
        }
    }
}

/// Why a message is a machine's rather than a person's, if it is.
pub fn automatic(envelope_from: &str, message: &Message<'_>) -> Option<&'static str> {
    let envelope = envelope_from
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    if envelope.is_empty() {
        return Some("empty envelope sender (a notification)");
    }
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if header("Auto-Submitted").is_some_and(|v| !v.starts_with("no")) {
        return Some("Auto-Submitted");
    }
    if header("X-Autoreply").is_some() || header("X-Autorespond").is_some() {
        return Some("X-Autoreply");
    }
    if header("X-Auto-Response-Suppress")
        .is_some_and(|v| v.contains("all") || v.contains("oof") || v.contains("autoreply"))
    {
        return Some("X-Auto-Response-Suppress");
    }
    for name in ["Precedence", "X-Precedence"] {
        if header(name)
            .is_some_and(|v| matches!(v.as_str(), "bulk" | "auto_reply" | "junk" | "list"))
        {
            return Some("Precedence");
        }
    }
    let subject = message.subject().unwrap_or_default().to_lowercase();
    const AUTO_SUBJECTS: [&str; 8] = [
        "automatic reply:",
        "auto-reply:",
        "autoreply:",
        "out of office",
        "automaattinen vastaus:",
        "poissaoloviesti",
        "automatiskt svar:",
        "frånvaromeddelande",
    ];
    if AUTO_SUBJECTS.iter().any(|s| subject.starts_with(s)) {
        return Some("an automatic reply's subject");
    }
    None
}

/// Records the refusal and tells the sender why, at most once an hour per address.
async fn refuse(
    inbound: &Inbound,
    row: Uuid,
    sender: &str,
    original: Option<&delivery::Model>,
    refusal: Refusal,
    detail: &str,
) -> AppResult<()> {
    let db = &inbound.state.db;
    let known = user::Entity::find()
        .filter(user::Column::Email.eq(sender))
        .one(db)
        .await?;
    let locale = known
        .as_ref()
        .map(|u| u.locale)
        .or_else(|| original.and_then(|o| Locale::try_from_value(&o.locale).ok()))
        .unwrap_or(Locale::En);
    let now = Utc::now();
    // Someone without an account (a forwarded email, a forged sender) is written to at the
    // address they wrote from; no account is made for them.
    let recipient = known.unwrap_or_else(|| user::Model {
        id: Uuid::nil(),
        email: sender.to_owned(),
        display_name: String::new(),
        locale,
        time_zone: "Europe/Helsinki".into(),
        digest_hour: 0,
        digest_weekday: 0,
        is_admin: false,
        password_hash: None,
        created_at: now,
        updated_at: now,
        email_suspended_at: None,
        deactivated_at: None,
        oidc_subject: None,
        erased_at: None,
    });
    let explanation = (!sender.is_empty()).then(|| NewDelivery {
        dedupe_key: format!("reply_refused:{sender}:{}", now.format("%Y-%m-%dT%H")),
        payload: to_payload(&ReplyMail {
            title: original.map(title_of).unwrap_or_default(),
            outcome: None,
            reason: Some(refusal.as_str().to_owned()),
            text: None,
            link: original.map_or_else(|| inbound.state.mail().link(""), |o| link_to(inbound, o)),
        }),
        recipient,
        template: Template::ReplyRefused,
        thread_id: None,
        reply_to: None,
        event_id: None,
    });
    let detail = if detail.is_empty() {
        refusal.as_str().to_owned()
    } else {
        format!("{}: {detail}", refusal.as_str())
    };
    finish(inbound, row, "refused", &detail, explanation).await
}

/// Records the outcome and queues the email about it, in one transaction.
async fn finish(
    inbound: &Inbound,
    row: Uuid,
    outcome: &str,
    detail: &str,
    email: Option<NewDelivery>,
) -> AppResult<()> {
    let domain = inbound.state.mail().domain().to_owned();
    inbound
        .state
        .changes
        .run(async |txn| {
            super::record_outcome(txn, row, outcome, detail).await?;
            let queued = match email {
                Some(email) => outbox::insert(txn, vec![email], &domain).await?,
                None => 0,
            };
            Ok(Done {
                value: (),
                events: Vec::new(),
                queued,
            })
        })
        .await
}

fn title_of(original: &delivery::Model) -> String {
    original
        .payload
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The page of the inquiry or question the email was about.
fn link_to(inbound: &Inbound, original: &delivery::Model) -> String {
    let mail = inbound.state.mail();
    match (
        Template::from_name(&original.kind).and_then(Template::link_segment),
        original.thread_id,
    ) {
        (Some(segment), Some(thread)) => mail.link(&format!("{segment}/{thread}")),
        _ => mail.link(""),
    }
}
