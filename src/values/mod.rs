//! Validated newtypes for input that crosses the API edge. Each parses once and is valid after.

mod email;
pub mod ical;
mod link;
mod locale;
mod slug;
mod text;
pub mod time;
mod time_zone;
pub mod tls;
pub mod viewer;

pub use email::Email;
pub use link::web_link;
pub use locale::parse_locale;
pub use slug::Slug;
pub use text::{NonEmptyText, TranslatedNames, check_text, is_allowed_char};
pub use time_zone::TimeZone;

/// Why a value was refused; `field` is filled in by the caller that knows the input's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);
