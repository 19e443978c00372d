//! Mail that arrives: replies to the service's emails, applied as the replier through the same
//! GraphQL mutations as the API, and delivery status notifications about its emails.
//!
//! Every email that invites an answer carries `Reply-To: reply+<token>@REPLY_DOMAIN`, and every
//! email is sent with the envelope sender `bounce+<token>@REPLY_DOMAIN`; the token names the
//! delivery and is signed ([`Signer::sign_address`]). The university's mail server routes the
//! domain to the [`smtp`] listener, which hands each message to [`Inbound::receive`], or
//! delivers it to a mailbox that [`imap`] polls ([`Inbound::receive_stored`]).

pub mod bounce;
pub mod imap;
pub mod reply;
pub mod smtp;
pub mod text;

use chrono::Utc;
use entity::inbound_mail;
use mail_parser::MessageParser;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::schema::AppSchema;
use crate::state::AppState;
use crate::subscriptions::token::{AddressPurpose, Signer};

/// Largest message taken (replies are text; a DSN quotes at most the original's headers).
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// What the listener answers for one recipient of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Taken (applied, refused with an explanation, or dropped as an auto-reply): `250`.
    Accepted,
    /// The database is away: `451`, the sending server tries again later and nothing is lost.
    TryLater(String),
    /// Not a message this service can take: `554`.
    Rejected(String),
}

/// A recipient address of ours: what it is for and which delivery it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    pub purpose: AddressPurpose,
    pub delivery: Uuid,
}

/// Takes replies and bounces.
#[derive(Clone)]
pub struct Inbound {
    state: AppState,
    schema: AppSchema,
    domain: String,
    signer: Signer,
}

impl Inbound {
    /// `None` without `REPLY_DOMAIN`: then no address of ours exists.
    pub fn new(state: AppState, schema: AppSchema) -> Option<Self> {
        let domain = state.config.reply_domain.clone()?;
        let signer = state.mail().signer.clone();
        Some(Self {
            state,
            schema,
            domain,
            signer,
        })
    }

    /// The domain the listener takes mail for.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Which delivery a `RCPT TO` address names, if it is a reply or bounce address of ours
    /// with a valid signature.
    pub fn recipient(&self, address: &str) -> Option<Recipient> {
        let address = address.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, domain) = address.rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        let (prefix, token) = local.split_once('+')?;
        let purpose = [AddressPurpose::Reply, AddressPurpose::Bounce]
            .into_iter()
            .find(|p| prefix.eq_ignore_ascii_case(p.local_prefix()))?;
        let delivery = self.signer.verify_address(purpose, token)?;
        Some(Recipient { purpose, delivery })
    }

    /// Handles one message for one of its recipients. A message handed over twice (the same
    /// Message-ID to the same address) is handled once.
    #[tracing::instrument(skip_all, fields(delivery = %to.delivery))]
    pub async fn receive(&self, envelope_from: &str, to: &Recipient, raw: &[u8]) -> Verdict {
        let Some(message) = MessageParser::default().parse(raw) else {
            return Verdict::Rejected("5.6.0 not an RFC 5322 message".into());
        };
        let address = format!(
            "{}+{}@{}",
            to.purpose.local_prefix(),
            self.signer.sign_address(to.purpose, to.delivery),
            self.domain
        );
        let sender = message
            .from()
            .and_then(|from| from.first())
            .and_then(|a| a.address())
            .unwrap_or(envelope_from)
            .trim()
            .to_lowercase();
        let mut key = Sha256::new();
        match message.message_id() {
            Some(id) => key.update(id.as_bytes()),
            None => key.update(raw),
        }
        key.update(b"\0");
        key.update(address.as_bytes());
        let row = inbound_mail::ActiveModel {
            id: Set(Uuid::now_v7()),
            dedupe_key: Set(hex(&key.finalize())),
            address: Set(address),
            sender: Set(sender.chars().take(320).collect()),
            delivery_id: Set(Some(to.delivery)),
            outcome: Set("received".into()),
            detail: Set(None),
            received_at: Set(Utc::now()),
        };
        let id = *row.id.as_ref();
        let inserted = inbound_mail::Entity::insert(row)
            .on_conflict(
                OnConflict::column(inbound_mail::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.state.db)
            .await;
        match inserted {
            Ok(0) => return Verdict::Accepted,
            Ok(_) => {}
            Err(err) => return try_later(AppError::from(err)),
        }
        let outcome = match to.purpose {
            AddressPurpose::Bounce => bounce::record(&self.state, id, to.delivery, &message).await,
            AddressPurpose::Reply => {
                reply::apply(self, id, to.delivery, envelope_from, &sender, &message).await
            }
        };
        match outcome {
            Ok(()) => Verdict::Accepted,
            Err(err) => {
                // Nothing was recorded: forget the message, so the server's retry is handled.
                let _ = inbound_mail::Entity::delete_many()
                    .filter(inbound_mail::Column::Id.eq(id))
                    .exec(&self.state.db)
                    .await;
                try_later(err)
            }
        }
    }
}

impl Inbound {
    /// Handles a message taken from a mailbox, where no SMTP envelope survives: its recipients
    /// of ours are read from the headers the delivering server adds (`Delivered-To`,
    /// `X-Original-To`, `Envelope-To`), or else from `To` and `Cc`; its envelope sender from
    /// `Return-Path`. A message for none of our addresses is `Rejected`.
    pub async fn receive_stored(&self, raw: &[u8]) -> Verdict {
        let headers = header_lines(raw);
        let mut recipients =
            self.recipients_in(&headers, &["delivered-to", "x-original-to", "envelope-to"]);
        if recipients.is_empty() {
            recipients = self.recipients_in(&headers, &["to", "cc"]);
        }
        if recipients.is_empty() {
            return Verdict::Rejected("5.1.1 no reply or bounce address of ours".into());
        }
        let envelope_from = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("return-path"))
            .map(|(_, value)| {
                value
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim()
            })
            .unwrap_or_default();
        let mut verdict = Verdict::Accepted;
        for to in recipients {
            match self.receive(envelope_from, &to, raw).await {
                Verdict::Accepted => {}
                later @ Verdict::TryLater(_) => verdict = later,
                rejected @ Verdict::Rejected(_) => {
                    if verdict == Verdict::Accepted {
                        verdict = rejected;
                    }
                }
            }
        }
        verdict
    }

    /// Our valid addresses in the headers named (lower-case), each once.
    fn recipients_in(&self, headers: &[(String, String)], names: &[&str]) -> Vec<Recipient> {
        let mut found: Vec<Recipient> = Vec::new();
        for (_, value) in headers
            .iter()
            .filter(|(name, _)| names.contains(&name.to_ascii_lowercase().as_str()))
        {
            let words = value.split(|c: char| {
                c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | ':' | '(' | ')' | '"')
            });
            for word in words.filter(|w| w.contains('@')) {
                if let Some(to) = self.recipient(word)
                    && !found.contains(&to)
                {
                    found.push(to);
                }
            }
        }
        found
    }
}

/// The header fields of a raw message (up to the first empty line), unfolded, as (name, value).
fn header_lines(raw: &[u8]) -> Vec<(String, String)> {
    // Headers longer than this are not a reply's.
    let text = String::from_utf8_lossy(&raw[..raw.len().min(256 * 1024)]);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    fields
}

/// Records what became of message `row` (in the caller's transaction).
async fn record_outcome(
    txn: &impl ConnectionTrait,
    row: Uuid,
    outcome: &str,
    detail: &str,
) -> AppResult<()> {
    inbound_mail::Entity::update_many()
        .col_expr(inbound_mail::Column::Outcome, Expr::value(outcome))
        .col_expr(
            inbound_mail::Column::Detail,
            Expr::value(Some(detail.chars().take(2000).collect::<String>())),
        )
        .filter(inbound_mail::Column::Id.eq(row))
        .exec(txn)
        .await?;
    Ok(())
}

fn try_later(err: AppError) -> Verdict {
    err.log_if_internal();
    let why = match err.code() {
        ErrorCode::Unavailable => "the database is unavailable",
        _ => "a local error",
    };
    Verdict::TryLater(format!("4.3.0 {why}; try again later"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
