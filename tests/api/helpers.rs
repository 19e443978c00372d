//! The test harness: `spawn_app()` and the GraphQL/WebSocket clients tests use.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use digimentor::app::Application;
use digimentor::config::{
    Config, GraphqlLimits, LogFormat, MailTransport, PoolSettings, WebSocketLimits,
};
use digimentor::directory::service::{NewUser, add_membership, create_organization, create_user};
use digimentor::notify::worker::{Worker, WorkerSettings};
use digimentor::state::AppState;
use digimentor::values::{Email, Slug, TimeZone, TranslatedNames};
use entity::membership::Role;
use entity::organization::OrganizationKind;
use entity::user::Locale;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use uuid::Uuid;

/// The password every test user gets.
pub const PASSWORD: &str = "test-password-123";

/// A running server with its own database.
pub struct TestApp {
    pub address: SocketAddr,
    /// The inbound mail listener, when the test configured `inbound_smtp_bind`.
    pub inbound: Option<SocketAddr>,
    /// The internal metrics address, when the test configured `metrics_bind`.
    pub metrics: Option<SocketAddr>,
    pub state: AppState,
    /// The delivery worker; with `run_workers` off (the test default) tests step it by hand.
    pub worker: Worker,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// Where emails are written when no SMTP server is set; removed with the app.
    _mail_dir: TempDir,
    _database: TestDatabase,
}

/// Which engine the tests run on.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

/// A fresh database for one test; removed when the test ends, pass or fail.
pub enum TestDatabase {
    /// Owned and cleaned up by someone else.
    Borrowed,
    Sqlite {
        _dir: TempDir,
    },
    Postgres {
        server_url: String,
        name: String,
    },
}

impl TestDatabase {
    pub async fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(server_url) if !server_url.is_empty() => {
                let name = format!("dm_test_{}{}", run_prefix(), Uuid::new_v4().simple());
                let admin = Database::connect(&server_url)
                    .await
                    .expect("connect TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let url = replace_database(&server_url, &name);
                (Self::Postgres { server_url, name }, url)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                (Self::Sqlite { _dir: dir }, url)
            }
        }
    }
}

/// `DM_TEST_RUN` (set by `.ci/run`, letters, digits and `_` only) names this run's databases,
/// `dm_test_<run>_<uuid>`, so that a run cleans up only what it created, even when another run
/// shares the server.
pub fn run_prefix() -> String {
    match std::env::var("DM_TEST_RUN") {
        Ok(run)
            if !run.is_empty() && run.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            format!("{}_", run.to_ascii_lowercase())
        }
        _ => String::new(),
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres { server_url, name } = self {
            let (server_url, name) = (server_url.clone(), name.clone());
            // Runs on its own thread and runtime: Drop cannot await, and the test's runtime may
            // already be shutting down.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(&server_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
                Ok::<_, std::io::Error>(())
            })
            .join();
        }
    }
}

/// Configuration for tests: random port, generous limits unless a test changes them.
pub fn test_config(database_url: String, mail_dir: PathBuf) -> Config {
    Config {
        database_url,
        database: PoolSettings::default(),
        bind: "127.0.0.1:0".parse().unwrap(),
        public_url: url::Url::parse("http://digimentor.test").unwrap(),
        mail: MailTransport::Files(mail_dir),
        mail_from: "Digimentor <digimentor@digimentor.test>".parse().unwrap(),
        graphql: GraphqlLimits {
            max_depth: 12,
            max_complexity: 5000,
            max_body_bytes: 256 * 1024,
            introspection: true,
            query_timeout: Duration::from_secs(10),
        },
        websocket: WebSocketLimits::default(),
        request_timeout: Duration::from_secs(30),
        header_timeout: Duration::from_secs(10),
        token_ttl: Duration::from_secs(3600),
        log_format: LogFormat::Human,
        cors_allowed_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        // Tests drive the worker by hand unless they turn it on.
        run_workers: false,
        worker: WorkerSettings {
            retry_base: Duration::from_millis(1),
            ..WorkerSettings::default()
        },
        reminder_lead: Duration::from_secs(3 * 86_400),
        reply_domain: None,
        inbound_smtp_bind: None,
        inbound_imap: None,
        metrics_bind: None,
        sign_in: digimentor::config::SignInSettings::default(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns a server after letting the test adjust its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (database, url) = TestDatabase::create().await;
    spawn(database, url, adjust).await
}

/// Spawns a server on a database the test already owns (and cleans up itself).
pub async fn spawn_app_on(url: String) -> TestApp {
    spawn(TestDatabase::Borrowed, url, |_| {}).await
}

/// Another instance on the same database as `first`, configured like it after `adjust`.
pub async fn spawn_instance(first: &TestApp, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let url = first.state.config.database_url.clone();
    spawn(TestDatabase::Borrowed, url, adjust).await
}

/// A server on a database whose URL the test chooses (e.g. through a proxy); `database` is
/// dropped with the app.
pub async fn spawn_app_at(
    database: TestDatabase,
    url: String,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    spawn(database, url, adjust).await
}

async fn spawn(database: TestDatabase, url: String, adjust: impl FnOnce(&mut Config)) -> TestApp {
    init_test_logging();
    let mail_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(url, mail_dir.path().to_owned());
    adjust(&mut config);
    let app = Application::build(config).await.expect("build application");
    let address = app.local_addr().unwrap();
    let inbound = app.inbound_addr();
    let metrics = app.metrics_addr();
    let state = app.state().clone();
    let worker = app.worker();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        address,
        inbound,
        metrics,
        state,
        worker,
        client: reqwest::Client::new(),
        shutdown: Some(tx),
        server: Some(server),
        _mail_dir: mail_dir,
        _database: database,
    }
}

fn init_test_logging() {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                std::env::var("TEST_LOG")
                    .ok()
                    .filter(|f| !f.is_empty() && f != "1")
                    .unwrap_or_else(|| "info".to_owned()),
            )
            .with_test_writer()
            .try_init();
    }
}

impl TestApp {
    /// The statement count once the instance is quiet (no statement for 150 ms): what came
    /// before (an event relayed back from PostgreSQL, say) is not counted against what comes
    /// after.
    pub async fn quiet_statements(&self) -> u64 {
        let mut last = self.state.statements.get();
        loop {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let now = self.state.statements.get();
            if now == last {
                return now;
            }
            last = now;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// POSTs a GraphQL operation and returns the decoded JSON body (whatever the status).
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// GETs `path` and returns the body as text (whatever the status).
    pub async fn get_text(&self, path: &str) -> String {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Logs in and returns the token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .graphql(
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                json!({ "e": email, "p": password }),
                None,
            )
            .await;
        body["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }

    /// Creates a user directly through the service layer and returns its id.
    pub async fn create_user(&self, email: &str, is_admin: bool) -> Uuid {
        let new = NewUser {
            email: Email::parse(email).unwrap(),
            display_name: email.split('@').next().unwrap().replace('.', " "),
            locale: Locale::Fi,
            time_zone: TimeZone::default(),
            is_admin,
            password: Some(PASSWORD.to_owned()),
        };
        let created = self
            .state
            .changes
            .run(async |txn| create_user(txn, None, new).await)
            .await
            .unwrap();
        created.user.id
    }

    pub async fn create_organization(&self, slug: &str, kind: OrganizationKind) -> Uuid {
        let names = TranslatedNames::parse(
            &format!("{slug} fi"),
            &format!("{slug} sv"),
            &format!("{slug} en"),
        )
        .unwrap();
        let new = digimentor::directory::service::NewOrganization {
            slug: Slug::parse(slug).unwrap(),
            kind,
            names,
        };
        let org = self
            .state
            .changes
            .run(async |txn| create_organization(txn, None, new).await)
            .await
            .unwrap();
        org.id
    }

    pub async fn add_role(&self, user: Uuid, organization: Uuid, role: Role) -> Uuid {
        let m = self
            .state
            .changes
            .run(async |txn| add_membership(txn, None, user, organization, role).await)
            .await
            .unwrap();
        m.id
    }

    /// Delivers every queued email by stepping the worker until the queue is empty.
    pub async fn drain_mail(&self) {
        for _ in 0..50 {
            if self.worker.try_execute_step().await.unwrap().claimed() == 0 {
                return;
            }
        }
        panic!("the outbox did not drain");
    }

    /// Builds and queues the digests due at `at`, as the scheduler does.
    pub async fn run_digests(
        &self,
        at: chrono::DateTime<chrono::Utc>,
    ) -> digimentor::error::AppResult<digimentor::notify::digests::DigestReport> {
        digimentor::scheduler::run_digests(&self.state.changes, at).await
    }

    /// Stops the server gracefully and waits for it; the database stays until the app drops.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(handle) => handle.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// A small network with one person in each role, and their tokens.
pub struct Network {
    pub science: Uuid,
    pub arts: Uuid,
    pub it_services: Uuid,
    pub management: Uuid,
    pub admin: Uuid,
    pub staff: Uuid,
    pub tokens: Tokens,
}

/// Tokens of the people of a [`Network`].
pub struct Tokens {
    pub admin: String,
    pub staff: String,
    pub mentor: String,
    pub contact: String,
    pub lead: String,
}

impl Tokens {
    /// (role name, token) for every role, a visitor first with no token.
    pub fn by_role(&self) -> Vec<(&'static str, Option<&str>)> {
        vec![
            ("visitor", None),
            ("staff", Some(self.staff.as_str())),
            ("mentor", Some(self.mentor.as_str())),
            ("contact", Some(self.contact.as_str())),
            ("lead", Some(self.lead.as_str())),
            ("admin", Some(self.admin.as_str())),
        ]
    }
}

impl TestApp {
    pub async fn seed_network(&self) -> Network {
        let science = self
            .create_organization("science", OrganizationKind::Faculty)
            .await;
        let arts = self
            .create_organization("arts", OrganizationKind::Faculty)
            .await;
        let it_services = self
            .create_organization("it-services", OrganizationKind::ServiceUnit)
            .await;
        let management = self
            .create_organization("management", OrganizationKind::Management)
            .await;
        let admin = self.create_user("admin@uni.test", true).await;
        let staff = self.create_user("staff@uni.test", false).await;
        let mentor = self.create_user("mentor@uni.test", false).await;
        let contact = self.create_user("contact@uni.test", false).await;
        let lead = self.create_user("lead@uni.test", false).await;
        self.add_role(staff, science, Role::Member).await;
        self.add_role(mentor, science, Role::Mentor).await;
        self.add_role(contact, it_services, Role::Contact).await;
        self.add_role(lead, management, Role::Lead).await;
        let tokens = Tokens {
            admin: self.login("admin@uni.test", PASSWORD).await,
            staff: self.login("staff@uni.test", PASSWORD).await,
            mentor: self.login("mentor@uni.test", PASSWORD).await,
            contact: self.login("contact@uni.test", PASSWORD).await,
            lead: self.login("lead@uni.test", PASSWORD).await,
        };
        Network {
            science,
            arts,
            it_services,
            management,
            admin,
            staff,
            tokens,
        }
    }
}

/// The `extensions.code` of the first error, or `None` when the operation succeeded.
/// A TCP port free on this machine now (for a server a test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn error_code(body: &Value) -> Option<String> {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

/// Panics with the body unless the operation succeeded.
pub fn assert_ok(body: &Value) {
    assert!(
        body.get("errors").is_none_or(Value::is_null),
        "unexpected errors: {body}"
    );
}

/// A `graphql-transport-ws` client over a real WebSocket.
pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// The server's event bus, to see when a subscription has started.
    bus: digimentor::events::EventBus,
}

/// How the server ended a connection.
#[derive(Debug)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl WsClient {
    /// Connects and sends `connection_init` with `payload`; `Err` if the server closes instead
    /// of acknowledging.
    pub async fn connect(app: &TestApp, payload: Value) -> Result<Self, Closed> {
        Self::connect_with(app, &[], payload).await
    }

    /// As [`WsClient::connect`], with more headers on the handshake.
    pub async fn connect_with(
        app: &TestApp,
        headers: &[(&'static str, &str)],
        payload: Value,
    ) -> Result<Self, Closed> {
        use futures_util::SinkExt;
        let mut client = Self::try_open_with(app, headers)
            .await
            .unwrap_or_else(|status| panic!("the upgrade was refused with {status}"));
        client
            .stream
            .send(text(
                json!({ "type": "connection_init", "payload": payload }),
            ))
            .await
            .unwrap();
        match client.next_raw().await {
            Ok(message) if message["type"] == "connection_ack" => Ok(client),
            Ok(other) => panic!("expected connection_ack, got {other}"),
            Err(closed) => Err(closed),
        }
    }

    /// The next WebSocket frame of any kind (pings included), or `None` after `wait`.
    pub async fn next_frame(
        &mut self,
        wait: Duration,
    ) -> Option<tokio_tungstenite::tungstenite::Message> {
        use futures_util::StreamExt;
        match tokio::time::timeout(wait, self.stream.next()).await {
            Ok(Some(Ok(message))) => Some(message),
            _ => None,
        }
    }

    /// Opens the WebSocket without sending `connection_init`.
    pub async fn open(app: &TestApp) -> Self {
        Self::try_open(app)
            .await
            .unwrap_or_else(|status| panic!("the upgrade was refused with {status}"))
    }

    /// Opens the WebSocket, or the HTTP status that refused the upgrade.
    pub async fn try_open(app: &TestApp) -> Result<Self, u16> {
        Self::try_open_with(app, &[]).await
    }

    /// As [`WsClient::try_open`], with more headers on the handshake (a browser's `Cookie` and
    /// `Origin`).
    pub async fn try_open_with(
        app: &TestApp,
        headers: &[(&'static str, &str)],
    ) -> Result<Self, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;

        let mut request = format!("ws://{}/graphql/ws", app.address)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse().unwrap());
        }
        let (stream, response) = match tokio_tungstenite::connect_async(request).await {
            Ok(connected) => connected,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                return Err(response.status().as_u16());
            }
            Err(other) => panic!("{other}"),
        };
        let bus = app.state.events().clone();
        assert_eq!(
            response.headers().get("sec-websocket-protocol").unwrap(),
            "graphql-transport-ws"
        );
        Ok(Self { stream, bus })
    }

    /// Starts a subscription with id `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        use futures_util::SinkExt;
        self.stream
            .send(text(json!({
                "id": id,
                "type": "subscribe",
                "payload": { "query": query, "variables": variables }
            })))
            .await
            .unwrap();
    }

    /// Subscribes and waits until the server's subscription listens to the event bus: the
    /// handshake after which a change is certain to reach it.
    pub async fn subscribe_ready(&mut self, id: &str, query: &str, variables: Value) {
        let before = self.bus.receivers();
        self.subscribe(id, query, variables).await;
        let started = async {
            while self.bus.receivers() <= before {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), started)
            .await
            .unwrap_or_else(|_| panic!("subscription {id} did not start"));
    }

    /// The next `next` payload's data. The tests assert that it arrives, not how fast: on a
    /// loaded 2-core CI machine (a headless browser test runs beside the others) a live event
    /// took over 5 s, so this waits up to 20 s.
    pub async fn next_data(&mut self) -> Value {
        self.next_data_within(Duration::from_secs(20)).await
    }

    /// As [`Self::next_data`], waiting up to `wait` (a reconnect's backoff, under load).
    pub async fn next_data_within(&mut self, wait: Duration) -> Value {
        let message = tokio::time::timeout(wait, self.next_raw())
            .await
            .unwrap_or_else(|_| panic!("no message within {wait:?}"))
            .expect("connection closed");
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"]["errors"].is_null(), "{message}");
        message["payload"]["data"].clone()
    }

    /// Closes the connection and waits until the server has seen the close (its answering
    /// close frame, or the end of the stream).
    pub async fn close(&mut self) {
        use futures_util::StreamExt;
        let _ = self.stream.close(None).await;
        while let Ok(Some(Ok(_))) =
            tokio::time::timeout(Duration::from_secs(5), self.stream.next()).await
        {}
    }

    /// Sends one text message as it is.
    pub async fn send_text(&mut self, message: String) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                message.into(),
            ))
            .await
            .unwrap();
    }

    /// How the server ends the connection; panics if it is still open after a few seconds.
    pub async fn closed(&mut self) -> Closed {
        loop {
            match tokio::time::timeout(Duration::from_secs(15), self.next_raw()).await {
                Ok(Err(closed)) => return closed,
                Ok(Ok(_)) => continue,
                Err(_) => panic!("the connection is still open"),
            }
        }
    }

    /// `true` if nothing arrives within `wait`.
    pub async fn stays_quiet(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.next_raw()).await.is_err()
    }

    async fn next_raw(&mut self) -> Result<Value, Closed> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return Err(Closed {
                        code: frame.as_ref().map(|f| u16::from(f.code)).unwrap_or(1005),
                        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    });
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    return Err(Closed {
                        code: 1006,
                        reason: String::new(),
                    });
                }
            }
        }
    }
}

fn text(value: Value) -> tokio_tungstenite::tungstenite::Message {
    tokio_tungstenite::tungstenite::Message::Text(value.to_string().into())
}

/// A network for the two-way channel: three communities (Science with two mentors and two staff
/// members), two service units and management, everyone logged in.
pub struct Channel {
    orgs: std::collections::HashMap<&'static str, Uuid>,
    users: std::collections::HashMap<&'static str, Uuid>,
    tokens: std::collections::HashMap<&'static str, String>,
}

impl Channel {
    /// An organization's id as a GraphQL ID string.
    pub fn org(&self, slug: &str) -> String {
        self.orgs[slug].to_string()
    }

    pub fn user_id(&self, name: &str) -> Uuid {
        self.users[name]
    }

    /// A person's token; `"visitor"` has none.
    pub fn token(&self, name: &str) -> Option<&str> {
        if name == "visitor" {
            return None;
        }
        Some(self.tokens[name].as_str())
    }
}

impl TestApp {
    pub async fn seed_channel(&self) -> Channel {
        let mut orgs = std::collections::HashMap::new();
        for (slug, kind) in [
            ("science", OrganizationKind::Faculty),
            ("arts", OrganizationKind::Faculty),
            ("medicine", OrganizationKind::Faculty),
            ("it-services", OrganizationKind::ServiceUnit),
            ("library", OrganizationKind::ServiceUnit),
            ("management", OrganizationKind::Management),
        ] {
            orgs.insert(slug, self.create_organization(slug, kind).await);
        }
        let people: [(&'static str, Option<(&str, Role)>); 11] = [
            ("admin", None),
            ("lead", Some(("management", Role::Lead))),
            ("unit.contact", Some(("it-services", Role::Contact))),
            ("library.contact", Some(("library", Role::Contact))),
            ("science.mentor", Some(("science", Role::Mentor))),
            ("science.comentor", Some(("science", Role::Mentor))),
            ("science.staff", Some(("science", Role::Member))),
            ("science.staff2", Some(("science", Role::Member))),
            ("arts.mentor", Some(("arts", Role::Mentor))),
            ("arts.staff", Some(("arts", Role::Member))),
            ("medicine.mentor", Some(("medicine", Role::Mentor))),
        ];
        let mut tokens = std::collections::HashMap::new();
        let mut users = std::collections::HashMap::new();
        for (name, role) in people {
            let email = format!("{name}@uni.test");
            let id = self.create_user(&email, name == "admin").await;
            if let Some((org, role)) = role {
                self.add_role(id, orgs[org], role).await;
            }
            users.insert(name, id);
            tokens.insert(name, self.login(&email, PASSWORD).await);
        }
        Channel {
            orgs,
            users,
            tokens,
        }
    }

    /// Creates and publishes an inquiry from management to `communities` as the lead; returns the
    /// inquiry id and the slot id of each community (by slug).
    pub async fn published_inquiry(
        &self,
        channel: &Channel,
        title: &str,
        communities: &[&str],
    ) -> (String, std::collections::HashMap<String, String>) {
        let ids: Vec<String> = communities.iter().map(|c| channel.org(c)).collect();
        let created = self
            .graphql(
                "mutation($o: ID!, $t: String!, $c: [ID!]!) { createInquiry(input: { organizationId: $o, title: $t, body: \"What do you need?\", communityIds: $c }) { id } }",
                json!({ "o": channel.org("management"), "t": title, "c": ids }),
                channel.token("lead"),
            )
            .await;
        assert_ok(&created);
        let id = created["data"]["createInquiry"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let published = self
            .graphql(
                "mutation($id: ID!) { publishInquiry(id: $id) { targets { id community { slug } } } }",
                json!({ "id": id }),
                channel.token("lead"),
            )
            .await;
        assert_ok(&published);
        let slots = published["data"]["publishInquiry"]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["community"]["slug"].as_str().unwrap().to_owned(),
                    t["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (id, slots)
    }
}

impl WsClient {
    /// The first error of the next `error` (or `next` with errors) message.
    pub async fn next_error(&mut self) -> Value {
        let message = tokio::time::timeout(Duration::from_secs(15), self.next_raw())
            .await
            .expect("no message within 15 s")
            .expect("connection closed");
        match message["type"].as_str() {
            Some("error") => message["payload"][0].clone(),
            Some("next") => message["payload"]["errors"][0].clone(),
            _ => panic!("expected an error, got {message}"),
        }
    }
}

/// Emails to the SMTP server at `url` (lettre's URL form).
pub fn smtp(url: &str) -> digimentor::config::MailTransport {
    digimentor::config::MailTransport::Smtp(
        digimentor::config::SmtpServer::parse(url, None).unwrap(),
    )
}

/// A certificate authority of the test's own in `dir` (`ca.pem`), and a certificate for
/// `localhost` signed by it (`server.pem`, `server.key`), made with the `openssl` command.
pub fn test_ca(dir: &std::path::Path) {
    use std::process::{Command, Stdio};
    let openssl = |args: &[&str]| {
        let done = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(done.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Digimentor test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}
