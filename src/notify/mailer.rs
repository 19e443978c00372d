//! Sending: lettre's pooled SMTP transport, or `.eml` files in a folder when no SMTP server is
//! configured.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
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
    Smtp(Arc<Smtp>),
    Files(PathBuf),
}

/// The pooled SMTP transport, and what it takes to build it again.
pub struct Smtp {
    url: String,
    connections: usize,
    /// The whole conversation for one message, connecting included, must end within this.
    deadline: Duration,
    transport: RwLock<AsyncSmtpTransport<Tokio1Executor>>,
}

/// Longest wait for connecting (lettre applies its timeout to connecting only).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

fn transport(
    url: &str,
    connections: usize,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
        .timeout(Some(SMTP_TIMEOUT))
        .pool_config(
            PoolConfig::new().max_size(u32::try_from(connections.max(1)).unwrap_or(u32::MAX)),
        )
        .build())
}

impl Mailer {
    /// Builds the transport with up to `connections` pooled SMTP connections; a broken pooled
    /// connection is dropped by lettre's pool, never reused. Each message must be done within
    /// `deadline` (lettre itself has no time limit once connected).
    pub fn new(
        transport: &MailTransport,
        connections: usize,
        deadline: Duration,
    ) -> Result<Self, lettre::transport::smtp::Error> {
        Ok(match transport {
            MailTransport::Smtp(url) => Self::Smtp(Arc::new(Smtp {
                transport: RwLock::new(self::transport(url, connections)?),
                url: url.clone(),
                connections,
                deadline,
            })),
            MailTransport::Files(dir) => Self::Files(dir.clone()),
        })
    }

    /// Sends one message; `file_stem` names the `.eml` file in folder mode.
    #[tracing::instrument(skip(self, message))]
    pub async fn send(&self, message: &Message, file_stem: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp(smtp) => smtp.send(message).await,
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

impl Smtp {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let transport = self
            .transport
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match tokio::time::timeout(self.deadline, transport.send(message.clone())).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) if err.is_permanent() => {
                Err(SendError::Permanent(crate::error::error_chain(&err)))
            }
            Ok(Err(err)) => Err(SendError::Temporary(crate::error::error_chain(&err))),
            Err(_) => {
                // The connection is stuck mid-conversation, and lettre's pool would take it back
                // as if it were healthy: start a fresh pool, so the next message does not find
                // it. The old pool closes once the sends still using it are done.
                match self::transport(&self.url, self.connections) {
                    Ok(fresh) => {
                        *self
                            .transport
                            .write()
                            .unwrap_or_else(PoisonError::into_inner) = fresh;
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "rebuilding the SMTP transport failed")
                    }
                }
                Err(SendError::Temporary(format!(
                    "the SMTP server did not finish the message within {} s",
                    self.deadline.as_secs()
                )))
            }
        }
    }
}
