//! Polling an IMAP mailbox for replies and bounces (`INBOUND_IMAP_URL`), for a mail server that
//! delivers the reply domain to a mailbox rather than forwarding it to the listener.
//!
//! Every poll logs in, selects the mailbox and takes up to [`BATCH`] messages not yet deleted,
//! oldest first. Each is handled like one arriving at the listener
//! ([`Inbound::receive_stored`]); what was handled (recorded, refused with an explanation,
//! dropped as an auto-reply) is deleted, what is not ours is marked seen and left for a person,
//! and what could not be handled now (the database away) stays untouched for the next poll. A
//! message fetched twice (two instances polling, a delete that did not arrive) is applied once:
//! the inbound log dedupes it.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_util::sync::CancellationToken;

use super::{Inbound, MAX_MESSAGE_BYTES, Verdict};
use crate::config::ImapMailbox;

/// Most messages taken in one poll; the rest wait for the next.
pub const BATCH: usize = 100;

/// Longest wait for the server at each step.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Poll {
    /// Handled and deleted.
    pub handled: usize,
    /// Not for an address of ours (or not a message): marked seen and left.
    pub left: usize,
    /// Not handled now (the database away): left for the next poll.
    pub deferred: usize,
}

/// Polls `mailbox` every `mailbox.every` until `shutdown`.
pub async fn run(inbound: Inbound, mailbox: ImapMailbox, shutdown: CancellationToken) {
    tracing::info!(
        host = %mailbox.host,
        mailbox = %mailbox.mailbox,
        every_s = mailbox.every.as_secs(),
        "polling an IMAP mailbox for replies and bounces"
    );
    loop {
        match tokio::select! {
            polled = poll(&inbound, &mailbox) => polled,
            () = shutdown.cancelled() => break,
        } {
            Ok(poll) if poll != Poll::default() => {
                tracing::info!(?poll, "polled the IMAP mailbox");
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, host = %mailbox.host, "polling the IMAP mailbox failed")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(mailbox.every) => {}
            () = shutdown.cancelled() => break,
        }
    }
}

/// A connection to the mailbox, TLS or not.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

/// Connects, logs in and selects the mailbox.
async fn open(mailbox: &ImapMailbox) -> Result<async_imap::Session<Box<dyn Stream>>, String> {
    let tcp = within(
        "connecting",
        TcpStream::connect((mailbox.host.as_str(), mailbox.port)),
    )
    .await?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Stream> = if mailbox.tls {
        let connector = TlsConnector::from(Arc::new(crate::values::tls::client_config(
            mailbox.ca_file.as_deref(),
        )?));
        let name = ServerName::try_from(mailbox.host.clone())
            .map_err(|e| format!("{}: {e}", mailbox.host))?;
        Box::new(within("the TLS handshake", connector.connect(name, tcp)).await?)
    } else {
        Box::new(tcp)
    };
    let mut client = Client::new(stream);
    within("the greeting", client.read_response())
        .await?
        .ok_or("the server closed the connection before greeting")?;
    let login = async {
        client
            .login(&mailbox.user, &mailbox.password)
            .await
            .map_err(|(err, _)| err)
    };
    let mut session = within("logging in", login)
        .await
        .map_err(|e| format!("as {}: {e}", mailbox.user))?;
    within("selecting the mailbox", session.select(&mailbox.mailbox))
        .await
        .map_err(|e| format!("{}: {e}", mailbox.mailbox))?;
    Ok(session)
}

/// Checks that the mailbox can be reached, logged in to and selected, touching no message;
/// says how many unread messages wait there.
pub async fn check(mailbox: &ImapMailbox) -> Result<usize, String> {
    let mut session = open(mailbox).await?;
    let unseen = within("searching", session.uid_search("UNSEEN UNDELETED"))
        .await?
        .len();
    let _ = within("logging out", session.logout()).await;
    Ok(unseen)
}

/// One poll: connect, log in, handle a batch, log out.
pub async fn poll(inbound: &Inbound, mailbox: &ImapMailbox) -> Result<Poll, String> {
    let mut session = open(mailbox).await?;
    let mut uids: Vec<u32> = within("searching", session.uid_search("UNSEEN UNDELETED"))
        .await?
        .into_iter()
        .collect();
    uids.sort_unstable();
    uids.truncate(BATCH);
    let mut poll = Poll::default();
    for uid in uids {
        // The size first: a message over the limit is not fetched.
        let size = {
            let fetches = within(
                "fetching a size",
                session.uid_fetch(uid.to_string(), "RFC822.SIZE"),
            )
            .await
            .map_err(|e| format!("fetching the size of {uid}: {e}"))?;
            let fetched: Vec<_> = within("fetching a size", fetches.try_collect())
                .await
                .map_err(|e| format!("fetching the size of {uid}: {e}"))?;
            fetched.first().and_then(|f| f.size).unwrap_or(0) as usize
        };
        let verdict = if size > MAX_MESSAGE_BYTES {
            Verdict::Rejected("5.3.4 message too big".into())
        } else {
            let fetches = within(
                "fetching",
                session.uid_fetch(uid.to_string(), "BODY.PEEK[]"),
            )
            .await
            .map_err(|e| format!("fetching {uid}: {e}"))?;
            let fetched: Vec<_> = within("fetching", fetches.try_collect())
                .await
                .map_err(|e| format!("fetching {uid}: {e}"))?;
            match fetched.first().and_then(|f| f.body()) {
                Some(raw) => inbound.receive_stored(raw).await,
                // Expunged meanwhile by another poller.
                None => continue,
            }
        };
        let flag = match verdict {
            Verdict::Accepted => {
                poll.handled += 1;
                "+FLAGS.SILENT (\\Deleted)"
            }
            Verdict::Rejected(why) => {
                tracing::info!(uid, %why, "left in the IMAP mailbox: not a reply or bounce of ours");
                poll.left += 1;
                "+FLAGS.SILENT (\\Seen)"
            }
            Verdict::TryLater(why) => {
                tracing::warn!(uid, %why, "left in the IMAP mailbox for the next poll");
                poll.deferred += 1;
                continue;
            }
        };
        let stored = within("flagging", session.uid_store(uid.to_string(), flag))
            .await
            .map_err(|e| format!("flagging {uid}: {e}"))?;
        within("flagging", stored.try_collect::<Vec<_>>())
            .await
            .map_err(|e| format!("flagging {uid}: {e}"))?;
    }
    if poll.handled > 0 {
        let expunged = within("expunging", session.expunge()).await?;
        within("expunging", expunged.try_collect::<Vec<_>>()).await?;
    }
    let _ = within("logging out", session.logout()).await;
    Ok(poll)
}

/// `step`, or an error naming it when the server does not answer within [`TIMEOUT`].
async fn within<T, E: std::fmt::Display>(
    step: &str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(TIMEOUT, work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(format!("{step}: {err}")),
        Err(_) => Err(format!("{step}: no answer in {} s", TIMEOUT.as_secs())),
    }
}
