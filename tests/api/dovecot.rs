//! A real IMAP server for the tests: Debian's Dovecot, run in the foreground on a free port
//! with its own configuration, one mailbox user and maildirs in a temporary folder. Stopped
//! when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running Dovecot with one user.
pub struct Dovecot {
    child: Child,
    pub port: u16,
    /// IMAP over TLS (`imaps`), with a certificate for `localhost` from [`Dovecot::ca_file`].
    pub tls_port: u16,
    pub ca_file: std::path::PathBuf,
    pub user: &'static str,
    pub password: &'static str,
    _dir: tempfile::TempDir,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Dovecot {
    /// Starts Dovecot, or says the test skipped when it is not installed (under CI, fails:
    /// `.ci/run` installs it).
    pub async fn start() -> Option<Self> {
        if output("dovecot", &["--version"]).is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "dovecot is missing; .ci/run installs it (apt-get install dovecot-imapd)"
            );
            eprintln!("SKIPPED: the IMAP test needs dovecot (apt-get install dovecot-imapd)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap().to_owned();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(format!("{root}/{sub}")).unwrap();
        }
        // Dovecot's login processes never run as root; as root, the mail is the `dovecot`
        // user's and logins run as `dovenull`. Otherwise everything runs as the test's user.
        let me = output("id", &["-un"]).unwrap();
        let (login_user, internal_user, mail_user) = if me == "root" {
            (
                "dovenull".to_owned(),
                "dovecot".to_owned(),
                "dovecot".to_owned(),
            )
        } else {
            (me.clone(), me.clone(), me.clone())
        };
        let uid = output("id", &["-u", &mail_user]).unwrap();
        let gid = output("id", &["-g", &mail_user]).unwrap();
        if me == "root" {
            let chowned = Command::new("chown")
                .arg(format!("{uid}:{gid}"))
                .arg(format!("{root}/mail"))
                .status()
                .unwrap();
            assert!(chowned.success());
        }
        let user = "replies";
        let password = "a mailbox password";
        std::fs::write(
            format!("{root}/passwd"),
            format!("{user}:{{PLAIN}}{password}\n"),
        )
        .unwrap();
        let port = crate::helpers::free_port();
        let tls_port = crate::helpers::free_port();
        // A CA of the test's own, and a certificate for localhost signed by it.
        crate::helpers::test_ca(std::path::Path::new(&root));
        let config = format!(
            "base_dir = {root}/run\n\
             state_dir = {root}/state\n\
             log_path = {root}/dovecot.log\n\
             protocols = imap\n\
             listen = 127.0.0.1\n\
             ssl = yes\n\
             ssl_cert = <{root}/server.pem\n\
             ssl_key = <{root}/server.key\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             first_valid_uid = 1\n\
             mail_location = maildir:{root}/mail/%u\n\
             default_login_user = {login_user}\n\
             default_internal_user = {internal_user}\n\
             passdb {{\n  driver = passwd-file\n  args = {root}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={root}/mail/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = {tls_port}\n    ssl = yes\n  }}\n}}\n"
        );
        std::fs::write(format!("{root}/dovecot.conf"), config).unwrap();
        let child = Command::new("dovecot")
            .args(["-F", "-c", &format!("{root}/dovecot.conf")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let dovecot = Self {
            child,
            port,
            tls_port,
            ca_file: dir.path().join("ca.pem"),
            user,
            password,
            _dir: dir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(dovecot);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "dovecot did not start: {}",
            std::fs::read_to_string(format!("{root}/dovecot.log")).unwrap_or_default()
        );
    }

    /// The mailbox as the service is configured with it.
    pub fn mailbox(&self, password: &str) -> digimentor::config::ImapMailbox {
        let password =
            percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC);
        digimentor::config::ImapMailbox::parse(
            &format!(
                "imap://{}:{password}@127.0.0.1:{}/INBOX",
                self.user, self.port
            ),
            None,
            Duration::from_millis(200),
        )
        .unwrap()
    }

    /// The mailbox over TLS, trusting `ca_file` (or only the public roots).
    pub fn tls_mailbox(
        &self,
        ca_file: Option<std::path::PathBuf>,
    ) -> digimentor::config::ImapMailbox {
        let password = percent_encoding::utf8_percent_encode(
            self.password,
            percent_encoding::NON_ALPHANUMERIC,
        );
        digimentor::config::ImapMailbox::parse(
            &format!(
                "imaps://{}:{password}@localhost:{}/INBOX",
                self.user, self.tls_port
            ),
            ca_file,
            Duration::from_millis(200),
        )
        .unwrap()
    }

    /// A session of our own, as a delivering server or a person looking at the mailbox.
    pub async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        let mut session = client
            .login(self.user, self.password)
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        session.select("INBOX").await.unwrap();
        session
    }

    /// Delivers a message into the mailbox, as the mail server would.
    pub async fn deliver(&self, raw: &str) {
        let mut session = self.session().await;
        session
            .append("INBOX", None, None, raw.as_bytes())
            .await
            .unwrap();
        session.logout().await.unwrap();
    }

    /// The UIDs in the mailbox matching an IMAP search.
    pub async fn search(&self, query: &str) -> Vec<u32> {
        let mut session = self.session().await;
        let mut uids: Vec<u32> = session
            .uid_search(query)
            .await
            .unwrap()
            .into_iter()
            .collect();
        session.logout().await.unwrap();
        uids.sort_unstable();
        uids
    }
}
