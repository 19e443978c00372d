//! What each kind of email carries, typed. A delivery stores its payload as JSON (so a queued
//! email renders the same after a restart or on another instance); it is written from these
//! types when planned and read back into [`Headers`] when sent. Templates read the fields by
//! name; the words around them live in the templates (`templates/strings.jinja` holds the
//! phrases several templates share).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// An email about an inquiry: published, answered, declined, a message in a target's thread,
/// a deadline reminder. Names and times are already in the recipient's language and zone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InquiryMail {
    pub title: String,
    pub body: String,
    pub author: String,
    pub inquiry_id: Uuid,
    /// The community's slot the email is about (answers, declines, messages, reminders): a
    /// reply to the email acts on it.
    #[serde(default)]
    pub target_id: Option<Uuid>,
    /// The inquiring organization's name.
    pub inquirer: String,
    /// The community the email is about (answers, declines, messages, reminders).
    pub community: Option<String>,
    pub answer: Option<String>,
    pub reason: Option<String>,
    pub answered_by: Option<String>,
    pub deadline: Option<String>,
    /// A message in the target's thread, and who wrote it.
    pub message: Option<String>,
    pub message_author: Option<String>,
    /// Reminders: `near` (the deadline is within the lead time) or `day` (it is today).
    pub stage: Option<String>,
    /// Closing: who closed the inquiry.
    #[serde(default)]
    pub closed_by: Option<String>,
}

/// The author's summary when an inquiry closes: coverage and every community's answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InquirySummaryMail {
    pub title: String,
    pub total: usize,
    pub answered: usize,
    pub declined: usize,
    pub pending: usize,
    pub answers: Vec<SummaryAnswer>,
}

/// One community in a summary: `answered` with the answer, `declined` with the reason, or
/// `pending` without text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SummaryAnswer {
    pub community: String,
    pub status: String,
    pub text: Option<String>,
}

/// An announcement: `relay` (to the mentors), `staff` (straight to the staff) or `relayed` (to
/// its author: a community passed it on, and the coverage now).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AnnouncementMail {
    pub stage: String,
    pub title: String,
    pub body: String,
    pub author: String,
    /// The sending organization, in the reader's language.
    pub sender: String,
    /// The recipient's (or the relaying) community, in the reader's language.
    pub community: Option<String>,
    pub relayed_by: Option<String>,
    pub how: Option<String>,
    pub relayed: usize,
    pub total: usize,
    pub link: String,
}

/// A training, for one reader: `registered` (a place), `waiting` (in line, at `position`),
/// `promoted` (a place came free), `unregistered`, `updated`, `cancelled` or `reminder`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainingMail {
    pub stage: String,
    pub title: String,
    pub description: String,
    /// The organiser (community, service unit or the network), in the reader's language.
    pub organizer: String,
    /// When it starts, in the reader's language and zone.
    pub starts: String,
    /// When it starts in the organiser's zone, when that differs from the reader's.
    pub organizer_time: Option<String>,
    pub place: Option<String>,
    /// Only for those with a place.
    pub online_url: Option<String>,
    /// The place in line, for those waiting.
    pub position: Option<u64>,
    /// Why it was cancelled, if the organiser said.
    pub reason: Option<String>,
    pub link: String,
    /// The invitation (`REQUEST`) or its cancellation (`CANCEL`), for those with a place.
    pub calendars: Vec<String>,
}

/// A development project, for one reader: `coordinator` (they were named one), `joined`
/// (someone joined: to the coordinators), `added` (they were added), `progress` (an update, to
/// its people) or `promoted` (their update became a tip).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProjectMail {
    pub stage: String,
    /// The project's name.
    pub title: String,
    /// The community, in the reader's language.
    pub community: String,
    /// Whose action it is (who named, joined, added, posted or promoted).
    pub actor: String,
    /// The person who joined.
    pub person: Option<String>,
    /// The progress update (Markdown).
    pub update: Option<String>,
    /// The tip an outcome became.
    pub tip_link: Option<String>,
    pub link: String,
}

/// An item of the network's agenda: `proposed` (to the chair) or `placed` on a meeting's
/// agenda (to its proposer and supporters).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AgendaItemMail {
    pub stage: String,
    pub title: String,
    pub body: String,
    pub proposer: String,
    pub meeting_title: Option<String>,
    /// When the meeting starts, in the reader's language and zone.
    pub meeting_when: Option<String>,
    pub link: String,
}

/// A security notice: the account's password was changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PasswordChangedMail {
    pub email: String,
    /// When, in the reader's language and zone.
    pub when: String,
    /// Where to sign in (and ask for a link if the password is unknown).
    pub link: String,
}

/// An email about a staff question: submitted to the mentors, forwarded to a service unit,
/// answered.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QuestionMail {
    pub title: String,
    pub body: String,
    pub note: Option<String>,
    pub answer: Option<String>,
    /// The asker's name; none when they asked the service unit not to see it.
    pub asker: Option<String>,
    pub answered_by: Option<String>,
    pub community: String,
    pub service_unit: Option<String>,
    /// Closing: who closed it, why, and the question it duplicates.
    #[serde(default)]
    pub closed_by: Option<String>,
    #[serde(default)]
    pub close_reason: Option<String>,
    #[serde(default)]
    pub duplicate_link: Option<String>,
    /// `question`, `wish` or `view`.
    #[serde(default)]
    pub kind: String,
    /// The service unit's decision on a wish or a view: `noted`, `planned`, `done` or
    /// `not_possible`, why, and who decided.
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub decision_reason: Option<String>,
    #[serde(default)]
    pub decided_by: Option<String>,
}

/// A one-time sign-in link.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignInLinkMail {
    /// The link, with its token: it is in the queued email only until the email is sent.
    pub link: String,
    /// How many minutes the link works.
    pub minutes: i64,
}

/// A new account's welcome: its sign-in address and a link to set the password.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountCreatedMail {
    pub email: String,
    /// The single-use link that sets the password.
    pub link: String,
    /// How many days the link works.
    pub days: i64,
}

/// What became of a reply by email (`reply_recorded`, `reply_refused`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReplyMail {
    /// The inquiry's or question's title; empty when the email replied to is unknown.
    pub title: String,
    /// Recorded: `answer` (the unit's answer), `message` (in a slot's conversation) or
    /// `question` (the answer to a question).
    pub outcome: Option<String>,
    /// Refused: `sender`, `expired`, `empty`, `unsupported`, `role`, `closed` or `invalid`.
    pub reason: Option<String>,
    /// The text that was recorded.
    pub text: Option<String>,
    /// Where to see it or to answer on the web.
    pub link: String,
}

/// An invitation to a network meeting or a monthly series, with its calendar.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MeetingMail {
    pub title: String,
    pub agenda: String,
    pub place: Option<String>,
    pub online_url: Option<String>,
    /// How many meetings the series has.
    pub count: usize,
    /// Whether this is a change to meetings already announced.
    pub updated: bool,
    /// Whether the meeting was cancelled (its calendar is then `METHOD:CANCEL`).
    #[serde(default)]
    pub cancelled: bool,
    /// Why it was cancelled, if the organizer said.
    #[serde(default)]
    pub reason: Option<String>,
    /// The partner network the meeting is held jointly with.
    #[serde(default)]
    pub partner: Option<String>,
    /// The first meeting's start, in the recipient's zone.
    pub starts: String,
    /// An update: what changed, in the reader's language and zone.
    #[serde(default)]
    pub changes: Vec<MeetingChange>,
    /// One invitation (`.ics`, `METHOD:REQUEST`, or `METHOD:CANCEL`) per meeting.
    #[serde(default)]
    pub calendars: Vec<String>,
}

/// One changed detail of a meeting: `time` (the start), `end`, `place`, `online` or `title`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MeetingChange {
    pub what: String,
    pub before: String,
    pub after: String,
}

/// One published thing, for topic emails and digests: the template words its headline from
/// the kind (`templates/strings.jinja`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ItemLine {
    /// The event kind, e.g. `inquiry.published`.
    pub kind: String,
    pub title: String,
    /// The organization the headline names (the inquirer, the answering community).
    pub organization: Option<String>,
    pub link: String,
    /// When it happened, in the recipient's zone (digests).
    pub when: Option<String>,
}

/// One item for an `immediate` subscriber of a topic.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TopicItemMail {
    pub topic: String,
    pub item: ItemLine,
    #[serde(flatten)]
    pub list: ListHeaders,
}

/// A daily or weekly digest.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DigestMail {
    /// `daily` or `weekly`.
    pub frequency: String,
    pub count: usize,
    pub groups: Vec<DigestGroup>,
    /// Targets still waiting for the answer of a community the reader is a mentor of.
    pub waiting: Vec<WaitingTarget>,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    #[serde(flatten)]
    pub list: ListHeaders,
}

/// A digest's items under one topic.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DigestGroup {
    pub topic: String,
    pub items: Vec<ItemLine>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WaitingTarget {
    pub title: String,
    pub community: String,
    pub deadline: Option<String>,
    /// The deadline had passed when the digest was written.
    #[serde(default)]
    pub overdue: bool,
    pub link: String,
}

/// The mailing-list headers of topic emails and digests (RFC 2919, RFC 8058).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListHeaders {
    pub list_id: String,
    pub unsubscribe_url: String,
}

/// What the sender reads from any stored payload besides the template's fields.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Headers {
    pub list_id: Option<String>,
    pub unsubscribe_url: Option<String>,
    /// Calendars to attach (`invite.ics`, or `invite-1.ics`, `invite-2.ics`, … for a series).
    #[serde(default)]
    pub calendars: Vec<String>,
    /// A single calendar, as emails queued before `calendars` carry it.
    pub ics: Option<String>,
}

impl Headers {
    pub fn of(payload: &Value) -> Self {
        Self::deserialize(payload).unwrap_or_default()
    }
}

/// The JSON stored in the delivery row.
pub fn to_payload(mail: &impl Serialize) -> Value {
    serde_json::to_value(mail).unwrap_or(Value::Null)
}
