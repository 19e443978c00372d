//! The one application error type and its mapping to coded GraphQL errors.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql converts anything that
//! does into a client-visible message, so a stray `?` could leak a database error. The only way
//! out to a client is [`From<AppError> for async_graphql::Error`], which adds `extensions.code`
//! and shows internal failures as an opaque message while logging their whole cause chain.

use std::error::Error as StdError;
use std::fmt;

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

use crate::values::InvalidValue;

/// Stable error codes sent in `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    Unavailable,
    /// A query ran past its deadline (`GRAPHQL_QUERY_TIMEOUT_SECONDS`).
    Timeout,
    /// The request body is larger than `GRAPHQL_MAX_BODY_BYTES` (HTTP 413).
    PayloadTooLarge,
    /// The request body is not `application/json` (HTTP 415).
    UnsupportedMediaType,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Timeout => "TIMEOUT",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::Internal => "INTERNAL",
        }
    }
}

/// What went wrong in a service call.
pub enum AppError {
    /// No valid token was presented.
    Unauthenticated,
    /// A login with a wrong email or password (never says which).
    InvalidCredentials,
    /// A single sign-on the service does not accept (a token that fails a check, a used code,
    /// a deactivated account); the reason is logged, the client is told only that.
    SignInRefused(String),
    /// The caller may not do this for this organization.
    Forbidden(String),
    /// The named kind of thing does not exist (or the caller may not know it exists).
    NotFound(&'static str),
    /// An input field failed validation.
    BadInput { field: String, message: String },
    /// The change collides with existing state (duplicate, stale version).
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// Too many attempts; retry after the given number of seconds.
    RateLimited { retry_after_secs: u64 },
    /// The database cannot be reached (down, restarting, connection lost, overloaded); nothing
    /// was changed and the same request may be sent again. Logged, shown as an opaque message.
    Unavailable(Box<dyn StdError + Send + Sync>),
    /// Anything the client cannot fix; logged, shown as an opaque message.
    Internal(Box<dyn StdError + Send + Sync>),
}

/// Shorthand for service results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Turns a validation failure of `field` into `BAD_USER_INPUT`.
    pub fn invalid(field: &str) -> impl FnOnce(InvalidValue) -> Self + '_ {
        move |e| Self::bad_input(field, e.0)
    }

    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Conflict {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub fn internal(err: impl StdError + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(err))
    }

    /// Maps a unique-constraint violation to `CONFLICT` on `field`; any other database error is
    /// classified as every database error is (`UNAVAILABLE` when the database is away, otherwise
    /// internal). This is the one place where database constraint failures become client errors.
    pub fn unique_violation(field: &str, message: &str) -> impl FnOnce(DbErr) -> Self {
        let field = field.to_owned();
        let message = message.to_owned();
        move |err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict {
                field: Some(field),
                message,
            },
            _ => Self::from(err),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated | Self::InvalidCredentials | Self::SignInRefused(_) => {
                ErrorCode::Unauthenticated
            }
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Logs an internal error with its whole cause chain; clients never see it.
    pub fn log_if_internal(&self) {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "internal error");
            }
            Self::SignInRefused(reason) => {
                tracing::warn!(reason, "single sign-on refused");
            }
            Self::Unavailable(cause) => {
                tracing::warn!(error = %error_chain(cause.as_ref()), "database unavailable");
            }
            _ => {}
        }
    }

    /// What went wrong, for an operator (the cause of an unavailable or internal error too).
    pub fn detail(&self) -> String {
        match self {
            Self::Internal(cause) | Self::Unavailable(cause) => error_chain(cause.as_ref()),
            Self::SignInRefused(reason) => reason.clone(),
            other => other.client_message(),
        }
    }

    /// The message a client may see.
    pub fn client_message(&self) -> String {
        match self {
            Self::Unauthenticated => {
                "Authentication required: log in and send a valid token.".into()
            }
            Self::InvalidCredentials => "The email or password is incorrect.".into(),
            Self::SignInRefused(_) => {
                "The sign-in with the university account was not accepted; start again.".into()
            }
            Self::Forbidden(m) => m.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::BadInput { field, message } => format!("{field}: {message}"),
            Self::Conflict { message, .. } => message.clone(),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many attempts; try again in {retry_after_secs} seconds.")
            }
            Self::Unavailable(_) => {
                "The service cannot reach its database right now; try again shortly.".into()
            }
            Self::Internal(_) => "Internal error; it has been logged.".into(),
        }
    }
}

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Internal(err) => write!(f, "Internal({})", error_chain(err.as_ref())),
            Self::Unavailable(err) => write!(f, "Unavailable({})", error_chain(err.as_ref())),
            other => write!(f, "{}({})", other.code().as_str(), other.client_message()),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            Self::Unavailable(Box::new(err))
        } else {
            Self::internal(err)
        }
    }
}

/// Whether a database error means "cannot reach the database now" rather than a bug: no
/// connection could be made or acquired, the connection broke, or the server is shutting down,
/// starting up or cancelled the statement (SQLSTATE classes 08 and 57).
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(_) => return true,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Protocol(_) => true,
        Sqlx::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
        _ => false,
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.log_if_internal();
        let code = err.code();
        let field = match &err {
            AppError::BadInput { field, .. } => Some(field.clone()),
            AppError::Conflict { field, .. } => field.clone(),
            _ => None,
        };
        async_graphql::Error::new(err.client_message()).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
    }
}

/// For command-line use: the client message, or the whole cause chain of an internal error.
impl From<AppError> for anyhow::Error {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Internal(cause) | AppError::Unavailable(cause) => {
                anyhow::anyhow!(error_chain(cause.as_ref()))
            }
            other => anyhow::anyhow!(other.client_message()),
        }
    }
}

/// Formats an error with all of its sources, outermost first.
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_show_no_cause_to_clients() {
        let err = AppError::from(DbErr::Custom("SELECT secret FROM user".into()));
        let gql: async_graphql::Error = err.into();
        assert!(!gql.message.contains("SELECT"));
        let ext = gql.extensions.unwrap();
        assert_eq!(
            ext.get("code").unwrap(),
            &async_graphql::Value::from("INTERNAL")
        );
    }

    #[test]
    fn bad_input_names_its_field() {
        let gql: async_graphql::Error = AppError::bad_input("slug", "bad").into();
        let ext = gql.extensions.unwrap();
        assert_eq!(
            ext.get("field").unwrap(),
            &async_graphql::Value::from("slug")
        );
        assert_eq!(
            ext.get("code").unwrap(),
            &async_graphql::Value::from("BAD_USER_INPUT")
        );
    }

    #[test]
    fn a_lost_database_is_unavailable_also_where_a_unique_violation_was_expected() {
        let lost = || {
            DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(
                sea_orm::sqlx::Error::PoolTimedOut,
            )))
        };
        assert_eq!(AppError::from(lost()).code(), ErrorCode::Unavailable);
        let mapped = AppError::unique_violation("slug", "taken")(lost());
        assert_eq!(mapped.code(), ErrorCode::Unavailable);
        let other = AppError::unique_violation("slug", "taken")(DbErr::Custom("bug".into()));
        assert_eq!(other.code(), ErrorCode::Internal);
    }
}
