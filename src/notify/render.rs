//! Turning a delivery into a well-formed email: subject, text and HTML from one Markdown
//! template in the recipient's language, with threading headers.

use std::str::FromStr;

use entity::delivery;
use lettre::Message;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use minijinja::Environment;
use serde_json::Value;
use url::Url;

use super::Template;
use super::mailer::SendError;
use super::payloads::{Headers, ItemLine};
use crate::subscriptions::token::{AddressPurpose, Signer};

/// Subject and bodies of one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The longest subject, in characters (RFC 5322's line length): longer titles are cut.
const MAX_SUBJECT: usize = 78;

/// Renders every email kind; built once at start-up.
pub struct Renderer {
    env: Environment<'static>,
    public_url: Url,
    mail_from: Mailbox,
    domain: String,
    replies: Option<ReplyAddresses>,
}

/// Signed reply and bounce addresses at `REPLY_DOMAIN`.
#[derive(Clone)]
pub struct ReplyAddresses {
    pub domain: String,
    pub signer: Signer,
}

impl ReplyAddresses {
    /// `reply+<token>@domain` or `bounce+<token>@domain` for one delivery.
    pub fn address(&self, purpose: AddressPurpose, delivery: uuid::Uuid) -> String {
        format!(
            "{}+{}@{}",
            purpose.local_prefix(),
            self.signer.sign_address(purpose, delivery),
            self.domain
        )
    }
}

macro_rules! templates {
    ($env:expr, $($kind:literal),+) => {
        $(
            $env.add_template(concat!($kind, "/fi"), include_str!(concat!("templates/", $kind, "/fi.md")))?;
            $env.add_template(concat!($kind, "/sv"), include_str!(concat!("templates/", $kind, "/sv.md")))?;
            $env.add_template(concat!($kind, "/en"), include_str!(concat!("templates/", $kind, "/en.md")))?;
        )+
    };
}

impl Renderer {
    pub fn new(public_url: Url, mail_from: Mailbox) -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        templates!(
            env,
            "inquiry_published",
            "inquiry_answered",
            "inquiry_declined",
            "inquiry_message",
            "inquiry_reminder",
            "question_submitted",
            "question_forwarded",
            "question_answered",
            "question_closed",
            "question_decided",
            "topic_item",
            "digest",
            "meeting_invitation",
            "sign_in_link",
            "password_reset",
            "inquiry_closed",
            "inquiry_summary",
            "inquiry_comentor",
            "password_changed",
            "account_created",
            "reply_recorded",
            "reply_refused",
            "agenda_item",
            "announcement",
            "training",
            "project"
        );
        // Text inside a Markdown link's brackets: a title's own brackets cannot end the link.
        env.add_filter("linktext", |text: String| {
            text.replace('\\', "\\\\")
                .replace('[', "\\[")
                .replace(']', "\\]")
        });
        // An address in an attribute, escaped for it and nothing more (`/` stays `/`).
        env.add_filter("href", |url: String| {
            minijinja::Value::from_safe_string(attribute(&url))
        });
        env.add_template("layout.html", include_str!("templates/layout.html"))?;
        env.add_template("strings.jinja", include_str!("templates/strings.jinja"))?;
        env.add_template("footer.txt", include_str!("templates/footer.txt"))?;
        env.add_template(
            "reply_hint.txt",
            "{%- import \"strings.jinja\" as s -%}{{ s.replies[reply_hint][lang] }}",
        )?;
        let domain = public_url.host_str().unwrap_or("localhost").to_owned();
        Ok(Self {
            env,
            public_url,
            mail_from,
            domain,
            replies: None,
        })
    }

    /// Replies go to signed `reply+…@` addresses and bounces to `bounce+…@` ones at `domain`.
    pub fn with_replies(mut self, replies: ReplyAddresses) -> Self {
        self.replies = Some(replies);
        self
    }

    /// The domain of Message-IDs and thread roots.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The link to the thing an email is about, for the kinds that are about one thing.
    pub fn link(&self, template: Template, thread_id: uuid::Uuid) -> Option<String> {
        let base = self.public_url.as_str().trim_end_matches('/');
        let segment = template.link_segment()?;
        Some(format!("{base}/{segment}/{thread_id}"))
    }

    /// Renders subject, text and sanitized HTML.
    pub fn render(
        &self,
        template: Template,
        locale: &str,
        payload: &Value,
        thread_id: uuid::Uuid,
    ) -> Result<Rendered, String> {
        let locale = if matches!(locale, "fi" | "sv" | "en") {
            locale
        } else {
            "en"
        };
        let mut context = payload.clone();
        if let Value::Object(map) = &mut context {
            if let Some(link) = self.link(template, thread_id) {
                map.insert("link".into(), Value::String(link));
            }
            map.insert("lang".into(), Value::String(locale.to_owned()));
        }
        let title = payload
            .get("title")
            .and_then(Value::as_str)
            .map(one_line)
            .unwrap_or_default();
        let render_with = |subject_title: &str| {
            let mut context = context.clone();
            if let Value::Object(map) = &mut context {
                map.insert(
                    "subject_title".into(),
                    Value::String(subject_title.to_owned()),
                );
            }
            self.env
                .get_template(&format!("{}/{locale}", template.name()))
                .and_then(|t| t.render(&context))
                .map_err(|e| format!("rendering {}: {e}", template.name()))
        };
        let mut source = render_with(&title)?;
        // A subject fits a line (78 characters): the title is cut, never the rest. `Re: ` is
        // not counted, so that the whole thread keeps one subject.
        let length = |source: &str| {
            source.lines().next().map_or(0, |line| {
                let subject = line.trim_start_matches("Subject: ");
                subject.trim_start_matches("Re: ").chars().count()
            })
        };
        let over = length(&source).saturating_sub(MAX_SUBJECT);
        if over > 0 && !title.is_empty() {
            let keep = title.chars().count().saturating_sub(over + 1);
            let cut: String = title.chars().take(keep).collect();
            source = render_with(&format!("{}…", cut.trim_end()))?;
        }
        let (subject, markdown) = source
            .split_once("\n\n")
            .and_then(|(first, rest)| {
                first
                    .strip_prefix("Subject: ")
                    .map(|s| (s.trim(), rest.trim()))
            })
            .ok_or_else(|| format!("template {} has no Subject line", template.name()))?;
        let headers = Headers::of(payload);
        let reply_hint =
            (self.replies.is_some() && template.accepts_replies()).then(|| template.name());
        let footer_context = minijinja::context! {
            lang => locale,
            reply_hint => reply_hint,
            reason => template.reason(),
            url_link => minijinja::Value::from_safe_string(format!(
                "<a href=\"{}\">{}</a>",
                attribute(self.public_url.as_str()),
                attribute(self.public_url.as_str())
            )),
            url => self.public_url.as_str(),
            unsubscribe_url => headers.unsubscribe_url,
        };
        let footer = self
            .env
            .get_template("footer.txt")
            .and_then(|t| t.render(&footer_context))
            .map_err(|e| format!("rendering the footer: {e}"))?;
        let html = self
            .env
            .get_template("layout.html")
            .and_then(|t| {
                t.render(minijinja::context! {
                    subject => subject,
                    content => self.html_content(markdown),
                    ..footer_context.clone()
                })
            })
            .map_err(|e| format!("rendering the HTML layout: {e}"))?;
        let hint = match reply_hint {
            Some(_) => {
                let line = self
                    .env
                    .get_template("reply_hint.txt")
                    .and_then(|t| t.render(&footer_context))
                    .map_err(|e| format!("rendering the reply hint: {e}"))?;
                format!("{line}\n\n")
            }
            None => String::new(),
        };
        Ok(Rendered {
            subject: one_line(subject),
            text: format!("{markdown}\n\n{hint}-- \n{footer}\n"),
            html,
        })
    }

    /// The HTML of an email's Markdown: its last line, when it is `Label: <link to this
    /// service>` (every email's call to action), becomes one button-styled link.
    fn html_content(&self, markdown: &str) -> String {
        let base = self.public_url.as_str();
        let action = markdown.rsplit_once("\n\n").and_then(|(before, last)| {
            let (label, url) = last.trim().rsplit_once(": ")?;
            let plain = !last.trim().contains('\n') && !url.contains(char::is_whitespace);
            (plain && url.starts_with(base)).then_some((before, label, url))
        });
        match action {
            Some((before, label, url)) => format!(
                "{}<p style=\"margin:24px 0;\"><a href=\"{}\" style=\"display:inline-block;\
                 padding:12px 20px;background:#0b5394;color:#ffffff;text-decoration:none;\
                 border-radius:4px;font-weight:bold;\">{}</a></p>",
                markdown_to_safe_html(before),
                attribute(url),
                minijinja::HtmlEscape(label.trim())
            ),
            None => markdown_to_safe_html(markdown),
        }
    }

    /// The headline of a published thing, as topic emails and digests word it.
    pub fn headline(&self, item: &ItemLine, locale: &str) -> Result<String, String> {
        let strings = self
            .env
            .get_template("strings.jinja")
            .map_err(|e| e.to_string())?;
        let captured = strings
            .render_captured(minijinja::context! {})
            .map_err(|e| e.to_string())?;
        captured
            .state()
            .call_macro(
                "headline",
                &[minijinja::Value::from_serialize(item), locale.into()],
            )
            .map_err(|e| e.to_string())
    }

    /// `From`: the acting person "via" the service's name, at `MAIL_FROM`'s address; the
    /// service itself for what it sends of its own accord.
    fn sender(&self, template: Template, payload: &Value) -> Mailbox {
        let actor = template
            .actor_field()
            .and_then(|field| payload.get(field))
            .and_then(Value::as_str)
            .map(one_line)
            .filter(|name| !name.is_empty());
        match actor {
            Some(name) => {
                let service = self.mail_from.name.as_deref().unwrap_or("Digimentor");
                Mailbox::new(
                    Some(format!("{name} via {service}")),
                    self.mail_from.email.clone(),
                )
            }
            None => self.mail_from.clone(),
        }
    }

    /// The complete message for a delivery; `earlier` names the emails of its thread that this
    /// recipient was already sent, so that it threads under the first of them.
    pub fn message(
        &self,
        delivery: &delivery::Model,
        earlier: &Earlier,
    ) -> Result<Message, SendError> {
        let template = Template::from_name(&delivery.kind).ok_or_else(|| {
            SendError::Permanent(format!("unknown email kind {:?}", delivery.kind))
        })?;
        let thread = delivery.thread_id.unwrap_or(delivery.id);
        let payload = &delivery.payload;
        let rendered = self
            .render(template, &delivery.locale, payload, thread)
            .map_err(SendError::Permanent)?;
        let to = Mailbox::from_str(&delivery.recipient_email)
            .map_err(|e| SendError::Permanent(format!("recipient address: {e}")))?;
        let to_address = to.email.clone();
        let mut builder = Message::builder()
            .from(self.sender(template, payload))
            .to(to)
            .subject(rendered.subject.clone())
            .message_id(Some(delivery.message_id.clone()))
            .header(AutoSubmitted);
        if let (Some(_), Some(_)) = (delivery.thread_id, template.thread_prefix()) {
            // The thread's root is the first email of it this recipient was actually sent (a
            // root their mail client has); the first email itself has none.
            if let (Some(root), Some(last)) = (&earlier.root, &earlier.last) {
                let references = if root == last {
                    root.clone()
                } else {
                    format!("{root} {last}")
                };
                builder = builder.in_reply_to(last.clone()).references(references);
            }
            // Outlook threads by these, not by References.
            let topic = rendered.subject.trim_start_matches("Re: ").to_owned();
            builder = builder
                .header(ThreadTopic(topic))
                .header(ThreadIndex(thread_index(thread, chrono::Utc::now())));
        }
        let headers = Headers::of(payload);
        if let Some(list) = &headers.list_id {
            builder = builder.header(ListId(format!("<{list}>")));
        }
        if let Some(url) = &headers.unsubscribe_url {
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        match &self.replies {
            Some(replies) if template.accepts_replies() => {
                let address = replies.address(AddressPurpose::Reply, delivery.id);
                let mailbox = Mailbox::from_str(&address)
                    .map_err(|e| SendError::Permanent(format!("reply address: {e}")))?;
                builder = builder.reply_to(mailbox);
            }
            _ => {
                for address in delivery.reply_to.iter().flat_map(|list| list.split(',')) {
                    if let Ok(mailbox) = Mailbox::from_str(address.trim()) {
                        builder = builder.reply_to(mailbox);
                    }
                }
            }
        }
        if let Some(replies) = &self.replies {
            // The envelope sender (the Return-Path the receiving server records): a delivery
            // status notification about this email comes back to this address.
            let bounce = replies.address(AddressPurpose::Bounce, delivery.id);
            let envelope = lettre::address::Envelope::new(
                Some(
                    lettre::Address::from_str(&bounce)
                        .map_err(|e| SendError::Permanent(format!("bounce address: {e}")))?,
                ),
                vec![to_address.clone()],
            )
            .map_err(|e| SendError::Permanent(format!("envelope: {e}")))?;
            builder = builder.envelope(envelope);
        }
        let alternative = MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(rendered.text),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(rendered.html),
            );
        let mut calendars = headers.calendars.clone();
        calendars.extend(headers.ics.clone());
        let body = if calendars.is_empty() {
            alternative
        } else {
            let mut mixed = MultiPart::mixed().multipart(alternative);
            let many = calendars.len() > 1;
            for (i, ics) in calendars.into_iter().enumerate() {
                // The part's `method` is the calendar's own (RFC 6047 §2.4).
                let method = if ics.contains("\r\nMETHOD:CANCEL\r\n") {
                    "CANCEL"
                } else {
                    "REQUEST"
                };
                let kind =
                    ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                        .map_err(|e| SendError::Permanent(format!("calendar content type: {e}")))?;
                let name = match (many, method) {
                    (true, "CANCEL") => format!("cancel-{}.ics", i + 1),
                    (true, _) => format!("invite-{}.ics", i + 1),
                    (false, "CANCEL") => "cancel.ics".to_owned(),
                    (false, _) => "invite.ics".to_owned(),
                };
                mixed = mixed.singlepart(Attachment::new(name).body(ics, kind));
            }
            mixed
        };
        builder
            .multipart(body)
            .map_err(|e| SendError::Permanent(format!("building the message: {e}")))
    }
}

/// The Message-IDs of the emails of a thread that were already sent to one recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Earlier {
    /// The first, the thread's root in the recipient's mailbox.
    pub root: Option<String>,
    /// The latest, which the new email answers (`In-Reply-To`).
    pub last: Option<String>,
}

/// Markdown rendered to HTML with everything unsafe removed: no scripts, styles, event
/// handlers or images (so no tracking pixels); links get `rel="noopener noreferrer"`.
pub fn markdown_to_safe_html(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let markdown = autolink(markdown);
    let mut raw = String::new();
    html::push_html(
        &mut raw,
        Parser::new_ext(
            &markdown,
            Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
        ),
    );
    ammonia::Builder::default()
        .rm_tags(["img"])
        .clean(&raw)
        .to_string()
}

/// A value for a double-quoted HTML attribute (`/` stays readable, unlike minijinja's escape).
fn attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Bare `http(s)://` addresses in Markdown text become autolinks (`<…>`), so that they are
/// links in HTML too. Addresses in code, in Markdown links and already in `<…>` stay as written.
pub fn autolink(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut fenced = false;
    for (i, line) in markdown.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            out.push_str(line);
        } else if fenced || line.starts_with("    ") || line.starts_with('\t') {
            out.push_str(line);
        } else {
            autolink_line(line, &mut out);
        }
    }
    out
}

fn autolink_line(line: &str, out: &mut String) {
    let mut in_code = false;
    let mut previous: Option<char> = None;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let at_word_start = previous.is_none_or(char::is_whitespace);
        if c == '`' {
            in_code = !in_code;
        } else if !in_code
            && at_word_start
            && (rest.starts_with("https://") || rest.starts_with("http://"))
        {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = &rest[..end];
            let url = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '"']);
            if !url.contains(['<', '>', '`']) && url.len() > "https://".len() {
                out.push('<');
                out.push_str(url);
                out.push('>');
                out.push_str(&word[url.len()..]);
                previous = word.chars().last();
                rest = &rest[end..];
                continue;
            }
        }
        out.push(c);
        previous = Some(c);
        rest = &rest[c.len_utf8()..];
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no vacation replies to our mail.
#[derive(Debug, Clone, Copy)]
pub struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

macro_rules! text_header {
    ($(#[$doc:meta])* $name:ident, $header:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub String);

        impl Header for $name {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($header)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(s.to_owned()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(
    /// `Thread-Topic`: the thread's subject without `Re:`, for Outlook.
    ThreadTopic,
    "Thread-Topic"
);
text_header!(
    /// `Thread-Index`: Outlook's conversation index (MS-OXOMSG 2.2.1.3).
    ThreadIndex,
    "Thread-Index"
);

/// Outlook's conversation index for a message of `thread` sent at `sent`: a header block (the
/// thread's start as FILETIME, its first 6 bytes, and the thread id as the GUID) and, for a
/// message after the start, one 5-byte child block with the time since it.
pub fn thread_index(thread: uuid::Uuid, sent: chrono::DateTime<chrono::Utc>) -> String {
    use base64::Engine;
    let started = thread
        .get_timestamp()
        .and_then(|t| {
            let (secs, nanos) = t.to_unix();
            chrono::DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
        })
        .unwrap_or(sent);
    // 100-nanosecond intervals since 1601-01-01.
    let filetime = |at: chrono::DateTime<chrono::Utc>| {
        u64::try_from(at.timestamp_micros() + 11_644_473_600_000_000).unwrap_or(0) * 10
    };
    let start = filetime(started);
    let mut bytes = Vec::with_capacity(27);
    bytes.extend_from_slice(&start.to_be_bytes()[..6]);
    bytes.extend_from_slice(thread.as_bytes());
    let delta = filetime(sent).saturating_sub(start);
    if delta > 0 {
        // DeltaCode 0 keeps bits 18..48 of the delta, 1 (for over about 1.7 years) bits 23..53.
        let block: u64 = if delta >> 49 == 0 {
            ((delta >> 18) & 0x7FFF_FFFF) << 8
        } else {
            (1 << 39) | (((delta >> 23) & 0x7FFF_FFFF) << 8)
        };
        bytes.extend_from_slice(&block.to_be_bytes()[3..]);
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

text_header!(
    /// `List-Id` (RFC 2919): one list per topic, so mail clients can filter and mute it.
    ListId,
    "List-Id"
);
text_header!(
    /// `List-Unsubscribe` (RFC 2369) with the signed one-click URL.
    ListUnsubscribe,
    "List-Unsubscribe"
);

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone, Copy)]
pub struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer() -> Renderer {
        Renderer::new(
            Url::parse("https://digimentor.example.edu").unwrap(),
            "Digimentor <dm@example.edu>".parse().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn the_acting_person_is_named_in_from_at_the_services_address() {
        let r = renderer();
        let from = |template: Template| {
            let delivery = delivery::Model {
                id: uuid::Uuid::nil(),
                dedupe_key: String::new(),
                recipient_id: uuid::Uuid::nil(),
                recipient_email: "m@uni.test".into(),
                locale: "fi".into(),
                kind: template.name().into(),
                thread_id: None,
                payload: sample(template),
                reply_to: None,
                event_id: None,
                status: delivery::DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: chrono::Utc::now(),
                claimed_until: None,
                last_error: None,
                message_id: "<x@digimentor.example.edu>".into(),
                sent_at: None,
                bounced_at: None,
                created_at: chrono::Utc::now(),
                updated_at: chrono::Utc::now(),
            };
            let message = r.message(&delivery, &Earlier::default()).unwrap();
            let raw = String::from_utf8(message.formatted()).unwrap();
            let parsed = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap();
            let addr = parsed.from().unwrap().first().unwrap();
            (
                addr.name().unwrap_or_default().to_owned(),
                addr.address().unwrap_or_default().to_owned(),
            )
        };
        let (name, address) = from(Template::InquiryAnswered);
        assert_eq!(name, "M via Digimentor");
        assert_eq!(address, "dm@example.edu");
        let (name, _) = from(Template::Digest);
        assert_eq!(name, "Digimentor");
    }

    #[test]
    fn a_thread_keeps_one_subject_title_first_and_cut_to_fit() {
        let r = renderer();
        let mut payload = sample(Template::InquiryPublished);
        let long = "Opetuksen digitaalisten ratkaisujen saavutettavuus ja tietosuoja kaikissa tiedekunnissa";
        payload["title"] = long.into();
        let first = r
            .render(
                Template::InquiryPublished,
                "fi",
                &payload,
                uuid::Uuid::nil(),
            )
            .unwrap();
        assert!(
            first.subject.starts_with("Opetuksen digitaalisten"),
            "{}",
            first.subject
        );
        assert!(
            first.subject.ends_with("… – Digimentor-kysely"),
            "{}",
            first.subject
        );
        assert!(first.subject.chars().count() <= MAX_SUBJECT);
        assert!(first.text.contains(long), "the body keeps the whole title");
        let follow_up = r
            .render(Template::InquiryAnswered, "fi", &payload, uuid::Uuid::nil())
            .unwrap();
        assert_eq!(
            follow_up.subject,
            format!("Re: {}", first.subject),
            "one subject along the thread"
        );
        assert!(follow_up.subject.starts_with("Re: "));
    }

    #[test]
    fn the_thread_index_has_a_header_block_and_one_child_block_per_reply() {
        use base64::Engine;
        let thread = uuid::Uuid::now_v7();
        let decode = |s: String| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
        let root = decode(thread_index(
            thread,
            chrono::Utc::now() - chrono::Duration::seconds(5),
        ));
        assert_eq!(root.len(), 22);
        let later = decode(thread_index(
            thread,
            chrono::Utc::now() + chrono::Duration::hours(3),
        ));
        assert_eq!(later.len(), 27);
        assert_eq!(&later[..22], &root[..22], "the same conversation");
        assert_eq!(&later[6..22], thread.as_bytes());
    }

    #[test]
    fn bare_addresses_become_links_but_code_and_markdown_links_stay() {
        assert_eq!(
            autolink("See https://a.example/x. Or (https://b.example)"),
            "See <https://a.example/x>. Or (https://b.example)"
        );
        assert_eq!(autolink("[t](https://a.example)"), "[t](https://a.example)");
        assert_eq!(autolink("`https://a.example`"), "`https://a.example`");
        assert_eq!(
            autolink("```\nhttps://a.example\n```"),
            "```\nhttps://a.example\n```"
        );
        assert_eq!(autolink("<https://a.example>"), "<https://a.example>");
        assert_eq!(autolink("x https://"), "x https://");
        let html = markdown_to_safe_html("Go: https://a.example/p?q=1&r=2");
        assert!(
            html.contains("<a href=\"https://a.example/p?q=1&amp;r=2\""),
            "{html}"
        );
    }

    proptest::proptest! {
        #[test]
        fn autolinking_never_loses_text(text in "\\PC{0,80}") {
            let linked = autolink(&text);
            let unlinked: String = linked.chars().filter(|c| *c != '<' && *c != '>').collect();
            let original: String = text.chars().filter(|c| *c != '<' && *c != '>').collect();
            proptest::prop_assert_eq!(unlinked, original);
        }
    }

    #[test]
    fn markdown_is_rendered_and_sanitized() {
        let html = markdown_to_safe_html(
            "**bold** <script>alert(1)</script> ![x](https://t.example/p.gif) [ok](https://e.example) <a href=\"javascript:x()\" onclick=\"y()\">j</a>",
        );
        assert!(html.contains("<strong>bold</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onclick"));
        assert!(html.contains("href=\"https://e.example\""));
    }

    /// A typed payload for each kind of email, as planning writes it.
    fn sample(template: Template) -> Value {
        use super::super::payloads::*;
        let item = ItemLine {
            kind: "inquiry.published".into(),
            title: "Moodle exams".into(),
            organization: Some("Management".into()),
            link: "https://digimentor.example.edu/inquiries/1".into(),
            when: Some("2027-01-30 12:00".into()),
        };
        let list = ListHeaders {
            list_id: "moodle.topics.digimentor.example.edu".into(),
            unsubscribe_url: "https://digimentor.example.edu/unsubscribe/a.b".into(),
        };
        let inquiry = InquiryMail {
            title: "Moodle exams".into(),
            body: "Body *text*".into(),
            author: "A".into(),
            inquirer: "Management".into(),
            community: Some("Science".into()),
            answer: Some("Yes".into()),
            reason: Some("No time".into()),
            answered_by: Some("M".into()),
            deadline: Some("2027-01-31 12:00".into()),
            message: Some("Hi".into()),
            message_author: Some("B".into()),
            stage: Some("near".into()),
            ..InquiryMail::default()
        };
        match template {
            Template::InquiryPublished
            | Template::InquiryAnswered
            | Template::InquiryDeclined
            | Template::InquiryMessage
            | Template::InquiryReminder => to_payload(&inquiry),
            Template::QuestionSubmitted
            | Template::QuestionForwarded
            | Template::QuestionAnswered
            | Template::QuestionClosed
            | Template::QuestionDecided => to_payload(&QuestionMail {
                title: "Moodle exams".into(),
                body: "Body".into(),
                note: Some("n".into()),
                answer: Some("Yes".into()),
                asker: Some("S".into()),
                answered_by: Some("M".into()),
                community: "Science".into(),
                service_unit: Some("IT".into()),
                closed_by: Some("M".into()),
                close_reason: Some("Asked before".into()),
                duplicate_link: Some("https://digimentor.example.edu/questions/2".into()),
                kind: "wish".into(),
                decision: Some("not_possible".into()),
                decision_reason: Some("The licence does not allow it.".into()),
                decided_by: Some("C".into()),
            }),
            Template::MeetingInvitation => to_payload(&MeetingMail {
                title: "Moodle exams".into(),
                agenda: "1. News".into(),
                place: Some("Hall 12".into()),
                online_url: None,
                count: 2,
                updated: false,
                cancelled: false,
                reason: None,
                partner: Some("Digivisio 2030".into()),
                starts: "2027-01-31 12:00".into(),
                calendars: vec!["BEGIN:VCALENDAR".into()],
                changes: vec![MeetingChange {
                    what: "place".into(),
                    before: "Hall 11".into(),
                    after: "Hall 12".into(),
                }],
            }),
            Template::SignInLink => to_payload(&SignInLinkMail {
                link: "https://digimentor.example.edu/sign-in/link/dmt_x".into(),
                minutes: 15,
            }),
            Template::PasswordReset => to_payload(&SignInLinkMail {
                link: "https://digimentor.example.edu/set-password/dmt_x".into(),
                minutes: 60,
            }),
            Template::InquiryClosed => to_payload(&InquiryMail {
                closed_by: Some("Kari Hiltunen".into()),
                ..inquiry.clone()
            }),
            Template::InquirySummary => to_payload(&InquirySummaryMail {
                title: "Moodle exams".into(),
                total: 3,
                answered: 1,
                declined: 1,
                pending: 1,
                answers: vec![
                    SummaryAnswer {
                        community: "Science".into(),
                        status: "answered".into(),
                        text: Some("Exam rooms".into()),
                    },
                    SummaryAnswer {
                        community: "Arts".into(),
                        status: "declined".into(),
                        text: Some("No exams".into()),
                    },
                    SummaryAnswer {
                        community: "Medicine".into(),
                        status: "pending".into(),
                        text: None,
                    },
                ],
            }),
            Template::InquiryCoMentor => to_payload(&inquiry),
            Template::Announcement => to_payload(&AnnouncementMail {
                stage: "relay".into(),
                title: "Moodle exams".into(),
                body: "Read this".into(),
                author: "C".into(),
                sender: "IT".into(),
                community: Some("Science".into()),
                relayed_by: None,
                how: None,
                relayed: 0,
                total: 2,
                link: "https://digimentor.example.edu/announcements/1".into(),
            }),
            Template::Training => to_payload(&TrainingMail {
                stage: "registered".into(),
                title: "Moodle exams".into(),
                description: "Hands on".into(),
                organizer: "Science".into(),
                starts: "2027-01-31 12:00".into(),
                organizer_time: Some("2027-01-31 11:00 (Europe/Stockholm)".into()),
                place: Some("Hall 12".into()),
                online_url: Some("https://meet.example.edu/q".into()),
                position: None,
                reason: None,
                link: "https://digimentor.example.edu/trainings/1".into(),
                calendars: vec!["BEGIN:VCALENDAR".into()],
            }),
            Template::Project => to_payload(&ProjectMail {
                stage: "progress".into(),
                title: "Moodle exams".into(),
                community: "Science".into(),
                actor: "M".into(),
                person: None,
                update: Some("We piloted *two* courses.".into()),
                tip_link: None,
                link: "https://digimentor.example.edu/projects/1".into(),
            }),
            Template::AgendaItem => to_payload(&AgendaItemMail {
                stage: "placed".into(),
                title: "Moodle exams".into(),
                body: "Why it matters".into(),
                proposer: "M".into(),
                meeting_title: Some("Network meeting".into()),
                meeting_when: Some("2027-01-31 12:00".into()),
                link: "https://digimentor.example.edu/meetings/1".into(),
            }),
            Template::PasswordChanged => to_payload(&PasswordChangedMail {
                email: "m@uni.test".into(),
                when: "1.12.2026 klo 10.00".into(),
                link: "https://digimentor.example.edu/sign-in".into(),
            }),
            Template::AccountCreated => to_payload(&AccountCreatedMail {
                email: "m@uni.test".into(),
                link: "https://digimentor.example.edu/set-password/dmt_x".into(),
                days: 7,
            }),
            Template::ReplyRecorded => to_payload(&ReplyMail {
                title: "Moodle exams".into(),
                outcome: Some("answer".into()),
                text: Some("We take part.".into()),
                link: "https://digimentor.example.edu/inquiries/1".into(),
                ..ReplyMail::default()
            }),
            Template::ReplyRefused => to_payload(&ReplyMail {
                title: "Moodle exams".into(),
                reason: Some("sender".into()),
                link: "https://digimentor.example.edu/inquiries/1".into(),
                ..ReplyMail::default()
            }),
            Template::TopicItem => to_payload(&TopicItemMail {
                topic: "Moodle".into(),
                item,
                list,
            }),
            Template::Digest => to_payload(&DigestMail {
                frequency: "daily".into(),
                count: 1,
                waiting: vec![WaitingTarget {
                    title: "Late [draft]".into(),
                    community: "Science".into(),
                    deadline: Some("2027-01-29 12:00".into()),
                    overdue: true,
                    link: "https://digimentor.example.edu/inquiries/2".into(),
                }],
                groups: vec![DigestGroup {
                    topic: "Moodle".into(),
                    items: vec![item],
                }],
                list,
                ..DigestMail::default()
            }),
        }
    }

    #[test]
    fn the_footer_is_escaped_once_and_unsubscribing_is_a_link() {
        let r = renderer();
        for template in [Template::TopicItem, Template::Digest] {
            let out = r
                .render(template, "fi", &sample(template), uuid::Uuid::nil())
                .unwrap();
            assert!(
                out.html.contains(
                    "<a href=\"https://digimentor.example.edu/unsubscribe/a.b\">Peru tilaus yhdellä napsautuksella</a>"
                ),
                "{}",
                out.html
            );
            assert!(!out.html.contains("&amp;#x2f;"), "{}", out.html);
            assert!(
                !out.html.contains("&#x2f;"),
                "addresses read as written: {}",
                out.html
            );
            assert!(!out.html.contains("&lt;"), "{}", out.html);
            assert!(
                out.text.contains("Peru tilaus yhdellä napsautuksella: https://digimentor.example.edu/unsubscribe/a.b"),
                "{}",
                out.text
            );
            assert!(out.text.contains("Uusi kysely (Management): Moodle exams"));
        }
    }

    #[test]
    fn every_template_renders_in_every_language() {
        let r = renderer();
        for template in Template::ALL {
            for locale in ["fi", "sv", "en"] {
                let out = r
                    .render(template, locale, &sample(template), uuid::Uuid::nil())
                    .unwrap();
                assert!(
                    out.subject.contains("Digimentor"),
                    "{template:?}/{locale}: {}",
                    out.subject
                );
                assert!(
                    out.subject.chars().count() <= MAX_SUBJECT,
                    "{}",
                    out.subject
                );
                let expected = match template {
                    Template::Digest => "1",
                    Template::SignInLink
                    | Template::PasswordReset
                    | Template::PasswordChanged
                    | Template::AccountCreated => "Digimentor",
                    _ => "Moodle exams",
                };
                assert!(
                    out.subject.contains(expected),
                    "{template:?}/{locale}: {}",
                    out.subject
                );
                assert!(
                    out.text.contains("https://digimentor.example.edu/"),
                    "{template:?}/{locale}: link"
                );
                assert!(out.html.contains(&format!("lang=\"{locale}\"")));
                // Every address in the text is a link in the HTML.
                for word in out.text.split_whitespace() {
                    if let Some(at) = word.find("https://") {
                        let url = word[at..].trim_end_matches(['.', ',', ')', ':']);
                        assert!(
                            out.html.contains(&format!("href=\"{url}\"")),
                            "{template:?}/{locale}: {url} is no link in {}",
                            out.html
                        );
                    }
                }
                if template == Template::Digest {
                    let late = match locale {
                        "fi" => "<strong>myöhässä</strong>",
                        "sv" => "<strong>försenad</strong>",
                        _ => "<strong>overdue</strong>",
                    };
                    assert!(out.html.contains(late), "{locale}: {}", out.html);
                    assert!(
                        out.html.contains(">Late [draft]</a>"),
                        "a title's brackets stay inside its link: {}",
                        out.html
                    );
                }
                // One button-styled call to action (a digest's items are its links).
                let buttons = out.html.matches("display:inline-block").count();
                let expected = usize::from(template != Template::Digest);
                assert_eq!(buttons, expected, "{template:?}/{locale}: {}", out.html);
                // The footer says why, truthfully for the kind.
                let why = match (template.reason(), locale) {
                    ("topic", "en") => "because you follow this topic",
                    ("digest", "en") => "because you follow its topics in digests",
                    ("meeting", "en") => "because you are one of the",
                    ("account", "en") => "a sign-in link was asked for",
                    ("thread", "en") => "because you take part in this matter",
                    ("reply", "en") => "a reply to a Digimentor email came from your address",
                    ("security", "en") => "because it concerns your Digimentor account",
                    ("welcome", "en") => "a Digimentor account was created for you",
                    ("agenda", "en") => "because you take part in an item of",
                    ("training", "en") => "because you registered for this training",
                    ("project", "en") => "because you take part in this project",
                    (_, "fi") => "Saat tämän",
                    _ => "Du får det här",
                };
                assert!(
                    out.text.contains(why),
                    "{template:?}/{locale}: {}",
                    out.text
                );
                assert!(out.html.contains(why), "{template:?}/{locale}");
                assert!(
                    !out.text.contains("{{"),
                    "{template:?}/{locale}: unrendered placeholder"
                );
            }
        }
    }

    /// Pieces that attackers and careless pasting bring, mixed with arbitrary text.
    fn hostile_markdown() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("<script>alert(1)</script>".to_owned()),
            Just("<img src=x onerror=alert(1)>".to_owned()),
            Just("![p](https://t.example/p.gif)".to_owned()),
            Just("[x](javascript:alert(1))".to_owned()),
            Just("<a href=\"javascript:x()\" onclick=\"y()\">a</a>".to_owned()),
            Just("<iframe src=//e.example></iframe>".to_owned()),
            Just("<svg onload=alert(1)>".to_owned()),
            Just("<style>body{}</style>".to_owned()),
            Just("<a href=\"data:text/html,x\">d</a>".to_owned()),
            Just("`code` **b** _i_ ~~s~~ | t | t |\n|---|---|\n".to_owned()),
            Just("<".to_owned()),
            Just(">".to_owned()),
            Just("\"".to_owned()),
            Just("\n\n".to_owned()),
            "\\PC{0,12}",
        ];
        proptest::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
    }

    /// The markup of every tag in `html` (text `<` is escaped, so each `<` opens a real tag).
    fn tags(html: &str) -> Vec<String> {
        html.split('<')
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap_or_default().to_lowercase())
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        #[test]
        fn no_markdown_yields_active_content(markdown in hostile_markdown()) {
            let html = markdown_to_safe_html(&markdown);
            for tag in tags(&html) {
                let name = tag.trim_start_matches('/').split_whitespace().next().unwrap_or_default().to_owned();
                proptest::prop_assert!(
                    !["script", "img", "iframe", "svg", "style", "object", "embed", "form"].contains(&name.as_str()),
                    "tag {tag:?} in {html:?}"
                );
                proptest::prop_assert!(!tag.contains("javascript:"), "{tag:?}");
                proptest::prop_assert!(!tag.contains("data:"), "{tag:?}");
                let handler = tag.split_whitespace().skip(1).any(|attr| attr.starts_with("on"));
                proptest::prop_assert!(!handler, "event handler in {tag:?}");
            }
        }
    }
}
