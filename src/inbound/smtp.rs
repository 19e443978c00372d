//! The inbound listener: SMTP (RFC 5321) or LMTP (RFC 2033, `LHLO`) on `INBOUND_SMTP_BIND`,
//! for the university's mail server to hand over mail for `REPLY_DOMAIN`. Only signed reply and
//! bounce addresses are accepted at `RCPT`; each message is handled before the answer to its
//! end of data, so a `250` means it is recorded and a `451` (database away) means the server
//! keeps it and tries again. No TLS: run it on a private network or loopback behind the mail
//! server, which does the checks a public MX does.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{Inbound, MAX_MESSAGE_BYTES, Recipient, Verdict};

/// Connections served at once; more wait for a free slot.
const MAX_CONNECTIONS: usize = 32;
/// Longest wait for a command or a line of data.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest command line, and longest line of message data.
const MAX_COMMAND: usize = 4096;
const MAX_DATA_LINE: usize = 64 * 1024;
/// Recipients of one message.
const MAX_RECIPIENTS: usize = 50;

/// Accepts connections until `shutdown`; connections in progress finish their conversation.
pub async fn serve(listener: TcpListener, inbound: Inbound, shutdown: CancellationToken) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "accepting an inbound mail connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let inbound = inbound.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            if let Err(err) = converse(stream, &inbound).await {
                tracing::debug!(%peer, error = %err, "inbound mail connection ended");
            }
        });
    }
    tracing::info!("inbound mail listener stopped");
}

/// Reads up to `limit` bytes through the next newline into `into`, within the command timeout.
async fn read_some<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    limit: usize,
    into: &mut Vec<u8>,
) -> std::io::Result<usize> {
    tokio::time::timeout(
        COMMAND_TIMEOUT,
        (&mut *reader).take(limit as u64).read_until(b'\n', into),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "nothing arrived in time"))?
}

/// One line without its line end, at most `limit` bytes, and whether it was longer (the rest
/// is read and dropped); `None` at the end of the stream.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    limit: usize,
) -> std::io::Result<Option<(Vec<u8>, bool)>> {
    let mut line = Vec::new();
    if read_some(reader, limit, &mut line).await? == 0 {
        return Ok(None);
    }
    let too_long = !line.ends_with(b"\n");
    if too_long {
        loop {
            let mut rest = Vec::new();
            let n = read_some(reader, limit, &mut rest).await?;
            if n == 0 || rest.ends_with(b"\n") {
                break;
            }
        }
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(Some((line, too_long)))
}

async fn converse(stream: TcpStream, inbound: &Inbound) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let domain = inbound.domain().to_owned();
    write
        .write_all(format!("220 {domain} Digimentor ESMTP ready\r\n").as_bytes())
        .await?;
    let mut greeted = false;
    let mut lmtp = false;
    let mut from: Option<String> = None;
    let mut recipients: Vec<Recipient> = Vec::new();
    while let Some((line, too_long)) = read_line(&mut reader, MAX_COMMAND).await? {
        if too_long {
            write.write_all(b"500 5.5.2 line too long\r\n").await?;
            continue;
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        let (verb, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let reply = match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "LHLO" => {
                greeted = true;
                lmtp = verb.eq_ignore_ascii_case("LHLO");
                from = None;
                recipients.clear();
                format!(
                    "250-{domain}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE {MAX_MESSAGE_BYTES}\r\n"
                )
            }
            "HELO" => {
                greeted = true;
                lmtp = false;
                from = None;
                recipients.clear();
                format!("250 {domain}\r\n")
            }
            "MAIL" if !greeted => "503 5.5.1 say hello first\r\n".into(),
            "MAIL" => match path_after(rest, "FROM:") {
                Some(path) => {
                    from = Some(path);
                    recipients.clear();
                    "250 2.1.0 OK\r\n".into()
                }
                None => "501 5.5.4 syntax: MAIL FROM:<address>\r\n".into(),
            },
            "RCPT" if from.is_none() => "503 5.5.1 MAIL first\r\n".into(),
            "RCPT" => match path_after(rest, "TO:") {
                Some(_) if recipients.len() >= MAX_RECIPIENTS => {
                    "452 4.5.3 too many recipients\r\n".into()
                }
                Some(path) => match inbound.recipient(&path) {
                    Some(recipient) => {
                        recipients.push(recipient);
                        "250 2.1.5 OK\r\n".into()
                    }
                    None => "550 5.1.1 no such mailbox\r\n".into(),
                },
                None => "501 5.5.4 syntax: RCPT TO:<address>\r\n".into(),
            },
            "DATA" if recipients.is_empty() => "554 5.5.1 no valid recipients\r\n".into(),
            "DATA" => {
                write
                    .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(data) = read_data(&mut reader).await? else {
                    return Ok(());
                };
                let envelope = from.take().unwrap_or_default();
                let taken = std::mem::take(&mut recipients);
                match data {
                    None => "552 5.3.4 message too big\r\n".into(),
                    Some(data) => {
                        let mut verdicts = Vec::with_capacity(taken.len());
                        for recipient in &taken {
                            verdicts.push(inbound.receive(&envelope, recipient, &data).await);
                        }
                        answer(&verdicts, lmtp)
                    }
                }
            }
            "RSET" => {
                from = None;
                recipients.clear();
                "250 2.0.0 OK\r\n".into()
            }
            "NOOP" => "250 2.0.0 OK\r\n".into(),
            "VRFY" => "252 2.5.0 cannot verify\r\n".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 command not implemented\r\n".into(),
        };
        write.write_all(reply.as_bytes()).await?;
    }
    Ok(())
}

/// The reply to the end of data: one line per recipient in LMTP; in SMTP one for all, asking
/// to try again if any recipient could not be handled now.
fn answer(verdicts: &[Verdict], lmtp: bool) -> String {
    let line = |verdict: &Verdict| match verdict {
        Verdict::Accepted => "250 2.0.0 OK\r\n".to_owned(),
        Verdict::TryLater(why) => format!("451 {why}\r\n"),
        Verdict::Rejected(why) => format!("554 {why}\r\n"),
    };
    if lmtp {
        return verdicts.iter().map(line).collect();
    }
    verdicts
        .iter()
        .find(|v| matches!(v, Verdict::TryLater(_)))
        .or_else(|| verdicts.iter().find(|v| matches!(v, Verdict::Accepted)))
        .or(verdicts.first())
        .map(line)
        .unwrap_or_default()
}

/// The message up to the lone dot, dot-unstuffed; `Some(None)` when it is larger than
/// [`MAX_MESSAGE_BYTES`] (read to its end and dropped); `None` at the end of the stream.
async fn read_data<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<Option<Vec<u8>>>> {
    let mut data = Vec::new();
    let mut too_big = false;
    loop {
        let Some((line, _)) = read_line(reader, MAX_DATA_LINE).await? else {
            return Ok(None);
        };
        if line == b"." {
            break;
        }
        if too_big {
            continue;
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if data.len() + line.len() + 2 > MAX_MESSAGE_BYTES {
            too_big = true;
            data = Vec::new();
            continue;
        }
        data.extend_from_slice(line);
        data.extend_from_slice(b"\r\n");
    }
    Ok(Some((!too_big).then_some(data)))
}

/// The `<path>` after `FROM:` or `TO:` (parameters after it are ignored); the empty path `<>`
/// is kept as an empty string.
fn path_after(rest: &str, keyword: &str) -> Option<String> {
    let rest = rest.trim_start();
    if rest.len() < keyword.len() || !rest[..keyword.len()].eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => inner.split_once('>')?.0,
        None => rest.split_whitespace().next()?,
    };
    Some(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_with_or_without_brackets_and_parameters() {
        assert_eq!(
            path_after("FROM:<a@b.fi> SIZE=100", "FROM:").as_deref(),
            Some("a@b.fi")
        );
        assert_eq!(path_after("from: <>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_after("TO:x@y.fi", "TO:").as_deref(), Some("x@y.fi"));
        assert_eq!(path_after("TO <x@y.fi>", "TO:"), None);
        assert_eq!(path_after("", "TO:"), None);
        assert_eq!(path_after("é", "TO:"), None);
    }

    #[test]
    fn smtp_asks_to_try_again_when_any_recipient_could_not_be_handled() {
        let ok = Verdict::Accepted;
        let later = Verdict::TryLater("4.3.0 x".into());
        assert_eq!(
            answer(&[ok.clone(), later.clone()], false),
            "451 4.3.0 x\r\n"
        );
        assert_eq!(
            answer(&[ok.clone(), later], true),
            "250 2.0.0 OK\r\n451 4.3.0 x\r\n"
        );
        assert_eq!(
            answer(&[Verdict::Rejected("5.6.0 bad".into()), ok], false),
            "250 2.0.0 OK\r\n"
        );
    }
}
