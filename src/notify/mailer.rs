//! Sending: lettre's pooled SMTP transport, or `.eml` files in a folder when no SMTP server is
//! configured.

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailTransport;

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Connection refused, timeout, 4xx: retry later.
    Temporary(String),
    /// 5xx or a message that cannot be built: retrying will not help.
    Permanent(String),
}

impl SendError {
    pub fn message(&self) -> &str {
        match self {
            Self::Temporary(m) | Self::Permanent(m) => m,
        }
    }
}

/// Where emails go.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// Longest wait for one SMTP command.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Mailer {
    /// Builds the transport with up to `connections` pooled SMTP connections; a broken pooled
    /// connection is dropped by lettre's pool, never reused.
    pub fn new(
        transport: &MailTransport,
        connections: usize,
    ) -> Result<Self, lettre::transport::smtp::Error> {
        Ok(match transport {
            MailTransport::Smtp(url) => Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .timeout(Some(SMTP_TIMEOUT))
                    .pool_config(
                        PoolConfig::new()
                            .max_size(u32::try_from(connections.max(1)).unwrap_or(u32::MAX)),
                    )
                    .build(),
            ),
            MailTransport::Files(dir) => Self::Files(dir.clone()),
        })
    }

    /// Sends one message; `file_stem` names the `.eml` file in folder mode.
    #[tracing::instrument(skip(self, message))]
    pub async fn send(&self, message: &Message, file_stem: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp(transport) => {
                transport
                    .send(message.clone())
                    .await
                    .map(|_| ())
                    .map_err(|err| {
                        if err.is_permanent() {
                            SendError::Permanent(crate::error::error_chain(&err))
                        } else {
                            SendError::Temporary(crate::error::error_chain(&err))
                        }
                    })
            }
            Self::Files(dir) => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| {
                    SendError::Temporary(format!("creating {}: {e}", dir.display()))
                })?;
                let path = dir.join(format!("{file_stem}.eml"));
                tokio::fs::write(&path, message.formatted())
                    .await
                    .map_err(|e| {
                        SendError::Temporary(format!("writing {}: {e}", path.display()))
                    })?;
                tracing::info!(path = %path.display(), "email written to file (SMTP_URL is not set)");
                Ok(())
            }
        }
    }
}
