//! Email notifications through a transactional outbox.
//!
//! [`rules`] turns each committed event into the deliveries the notification rules call for;
//! they are inserted in the same transaction as the change ([`outbox::enqueue`], called from
//! [`Changes::run`](crate::changes::Changes::run)). The [`worker`] claims due deliveries,
//! [`render`]s them from their template folder and sends them through the [`mailer`];
//! [`reminders`] adds deadline reminders on a schedule.

pub mod digests;
pub mod items;
pub mod mailer;
pub mod outbox;
pub mod payloads;
pub mod reminders;
pub mod render;
pub mod rules;
pub mod schema;
pub mod worker;

use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::subscriptions::token::{Scope, Signer, Unsubscribe};

/// What planning an email needs besides the database: where links point and how unsubscribe
/// links are signed.
#[derive(Clone)]
pub struct MailContext {
    pub public_url: Url,
    pub signer: Signer,
    /// `MAIL_FROM`'s address: the `ORGANIZER` of meeting invitations.
    pub organizer: String,
}

impl MailContext {
    /// The domain of Message-IDs and list ids.
    pub fn domain(&self) -> &str {
        self.public_url.host_str().unwrap_or("localhost")
    }

    /// An absolute link under `PUBLIC_URL`.
    pub fn link(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.public_url.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// The one-click unsubscribe URL for a user and scope.
    pub fn unsubscribe_url(&self, user_id: Uuid, scope: Scope) -> String {
        self.link(&format!(
            "unsubscribe/{}",
            self.signer.sign(Unsubscribe { user_id, scope })
        ))
    }
}

/// Each kind of email has a template folder under `src/notify/templates/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    InquiryPublished,
    InquiryAnswered,
    InquiryDeclined,
    InquiryMessage,
    InquiryReminder,
    QuestionSubmitted,
    QuestionForwarded,
    QuestionAnswered,
    /// To the asker: their question was closed, why, or which earlier one it duplicates.
    QuestionClosed,
    /// To the asker and the community's mentors: the service unit's decision on a wish or a
    /// view.
    QuestionDecided,
    /// One item for an `immediate` topic subscriber.
    TopicItem,
    /// A daily or weekly digest.
    Digest,
    /// An invitation to network meetings, with the `.ics` attached.
    MeetingInvitation,
    /// A one-time sign-in link, asked for on the sign-in page.
    SignInLink,
    /// A one-time link to choose a new password, for a forgotten one.
    PasswordReset,
    /// To the mentors of communities that had not answered: the inquiry was closed.
    InquiryClosed,
    /// To the inquiry's author when it closes: coverage and every answer.
    InquirySummary,
    /// To a community's other mentors: a co-mentor answered or declined for it.
    InquiryCoMentor,
    /// To the account's owner: the password was changed (a security notice).
    PasswordChanged,
    /// To a new account's owner: the account exists, and a link to set its password.
    AccountCreated,
    /// To whoever replied by email: what their reply became.
    ReplyRecorded,
    /// To whoever replied by email: why their reply was not applied (at most one an hour).
    ReplyRefused,
    /// An item of the network's agenda: proposed (to the chair), or placed on a meeting's
    /// agenda (to its proposer and supporters).
    AgendaItem,
    /// An announcement: to the addressed communities' mentors to relay it, to their staff when
    /// it is also emailed to them, and to its author when a community relayed it.
    Announcement,
    /// A training: to a registrant (a place or the waiting list, a place that came free, a
    /// cancelled registration, a reminder), and to everyone registered when it changes or is
    /// cancelled; the calendar is attached for those with a place.
    Training,
    /// A development project: to mentors named its coordinators, to its coordinators when
    /// someone joins, to someone added to it, to its people on a progress update, and to an
    /// update's author when its outcome became a tip.
    Project,
}

impl Template {
    pub const ALL: [Template; 26] = [
        Self::InquiryPublished,
        Self::InquiryAnswered,
        Self::InquiryDeclined,
        Self::InquiryMessage,
        Self::InquiryReminder,
        Self::QuestionSubmitted,
        Self::QuestionForwarded,
        Self::QuestionAnswered,
        Self::QuestionClosed,
        Self::QuestionDecided,
        Self::TopicItem,
        Self::Digest,
        Self::MeetingInvitation,
        Self::SignInLink,
        Self::PasswordReset,
        Self::InquiryClosed,
        Self::InquirySummary,
        Self::InquiryCoMentor,
        Self::PasswordChanged,
        Self::AccountCreated,
        Self::ReplyRecorded,
        Self::ReplyRefused,
        Self::AgendaItem,
        Self::Announcement,
        Self::Training,
        Self::Project,
    ];

    /// The folder name, also stored in `delivery.kind`.
    pub fn name(self) -> &'static str {
        match self {
            Self::InquiryPublished => "inquiry_published",
            Self::InquiryAnswered => "inquiry_answered",
            Self::InquiryDeclined => "inquiry_declined",
            Self::InquiryMessage => "inquiry_message",
            Self::InquiryReminder => "inquiry_reminder",
            Self::QuestionSubmitted => "question_submitted",
            Self::QuestionForwarded => "question_forwarded",
            Self::QuestionAnswered => "question_answered",
            Self::QuestionClosed => "question_closed",
            Self::QuestionDecided => "question_decided",
            Self::TopicItem => "topic_item",
            Self::Digest => "digest",
            Self::MeetingInvitation => "meeting_invitation",
            Self::SignInLink => "sign_in_link",
            Self::PasswordReset => "password_reset",
            Self::InquiryClosed => "inquiry_closed",
            Self::InquirySummary => "inquiry_summary",
            Self::InquiryCoMentor => "inquiry_comentor",
            Self::PasswordChanged => "password_changed",
            Self::AccountCreated => "account_created",
            Self::ReplyRecorded => "reply_recorded",
            Self::ReplyRefused => "reply_refused",
            Self::AgendaItem => "agenda_item",
            Self::Announcement => "announcement",
            Self::Training => "training",
            Self::Project => "project",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The one thing the email is about; topic emails and digests are about many.
    fn about(self) -> Option<About> {
        match self {
            Self::InquiryPublished
            | Self::InquiryAnswered
            | Self::InquiryDeclined
            | Self::InquiryMessage
            | Self::InquiryReminder
            | Self::InquiryClosed
            | Self::InquirySummary
            | Self::InquiryCoMentor => Some(About::Inquiry),
            Self::QuestionSubmitted
            | Self::QuestionForwarded
            | Self::QuestionAnswered
            | Self::QuestionClosed
            | Self::QuestionDecided => Some(About::Question),
            Self::MeetingInvitation => Some(About::Meeting),
            Self::Announcement => Some(About::Announcement),
            Self::Training => Some(About::Training),
            Self::Project => Some(About::Project),
            Self::TopicItem
            | Self::Digest
            | Self::SignInLink
            | Self::PasswordReset
            | Self::PasswordChanged
            | Self::AccountCreated
            | Self::ReplyRecorded
            | Self::ReplyRefused
            | Self::AgendaItem => None,
        }
    }

    /// The payload field naming the person whose action the email reports, shown in `From`
    /// ("Kari Hiltunen via Digimentor"); none for what the service sends of itself.
    pub fn actor_field(self) -> Option<&'static str> {
        match self {
            Self::InquiryPublished => Some("author"),
            Self::InquiryAnswered
            | Self::InquiryDeclined
            | Self::InquiryCoMentor
            | Self::QuestionAnswered => Some("answered_by"),
            Self::InquiryClosed => Some("closed_by"),
            Self::InquiryMessage => Some("message_author"),
            Self::QuestionSubmitted => Some("asker"),
            Self::QuestionClosed => Some("closed_by"),
            Self::QuestionDecided => Some("decided_by"),
            Self::QuestionForwarded
            | Self::InquiryReminder
            | Self::TopicItem
            | Self::Digest
            | Self::MeetingInvitation
            | Self::SignInLink
            | Self::PasswordReset
            | Self::InquirySummary
            | Self::PasswordChanged
            | Self::AccountCreated
            | Self::ReplyRecorded
            | Self::ReplyRefused
            | Self::AgendaItem
            | Self::Announcement
            | Self::Training
            | Self::Project => None,
        }
    }

    /// Whether a reply to this kind of email is applied (REPLY_DOMAIN): it then carries a
    /// signed `Reply-To: reply+<token>@REPLY_DOMAIN` and says what replying does
    /// (`strings.jinja`, `replies`).
    pub fn accepts_replies(self) -> bool {
        matches!(
            self,
            Self::InquiryPublished
                | Self::InquiryAnswered
                | Self::InquiryDeclined
                | Self::InquiryMessage
                | Self::InquiryReminder
                | Self::QuestionSubmitted
                | Self::QuestionForwarded
        )
    }

    /// Why a recipient gets this kind of email, as the footer says it (`strings.jinja`,
    /// `reasons`).
    pub fn reason(self) -> &'static str {
        match self {
            Self::TopicItem => "topic",
            Self::Digest => "digest",
            Self::MeetingInvitation => "meeting",
            Self::SignInLink | Self::PasswordReset => "account",
            Self::AccountCreated => "welcome",
            Self::PasswordChanged => "security",
            Self::ReplyRecorded | Self::ReplyRefused => "reply",
            Self::AgendaItem => "agenda",
            Self::Training => "training",
            Self::Project => "project",
            Self::InquiryPublished
            | Self::InquiryAnswered
            | Self::InquiryDeclined
            | Self::InquiryMessage
            | Self::InquiryReminder
            | Self::QuestionSubmitted
            | Self::QuestionForwarded
            | Self::QuestionAnswered
            | Self::QuestionClosed
            | Self::QuestionDecided
            | Self::InquiryClosed
            | Self::InquirySummary
            | Self::InquiryCoMentor
            | Self::Announcement => "thread",
        }
    }

    /// The path segment of links to what the email is about; topic emails and digests link to
    /// each item instead.
    pub fn link_segment(self) -> Option<&'static str> {
        Some(match self.about()? {
            About::Inquiry => "inquiries",
            About::Question => "questions",
            About::Meeting => "meetings",
            About::Announcement => "announcements",
            About::Training => "trainings",
            About::Project => "projects",
        })
    }

    /// The thread an email belongs to (`<prefix>-<id>@domain`): emails about an inquiry thread
    /// under the inquiry, about a question under the question, about meetings under the first
    /// meeting of the series. Topic emails and digests stand alone.
    pub fn thread_prefix(self) -> Option<&'static str> {
        Some(match self.about()? {
            About::Inquiry => "inquiry",
            About::Question => "question",
            About::Meeting => "meeting",
            About::Announcement => "announcement",
            About::Training => "training",
            About::Project => "project",
        })
    }
}

#[derive(Clone, Copy)]
enum About {
    Inquiry,
    Question,
    Meeting,
    Announcement,
    Training,
    Project,
}
