//! Shared test helpers: a fresh, isolated database per test on each backend (a temporary SQLite
//! file, or a new PostgreSQL database dropped afterwards) and a real server on a loopback port.

use diesel::Connection as _;
use diesel::RunQueryDsl as _;
use scelle::node::Node;
use scelle::storage::DatabaseUrl;
use scelle::usecases::admin::{self, InitOptions};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// The PostgreSQL server tests create their databases on.
pub fn pg_server_url() -> String {
    std::env::var("SCELLE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A test's own database; a PostgreSQL one is dropped when this goes away.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub url: DatabaseUrl,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => Self {
                url: DatabaseUrl::sqlite_in(dir.path()),
                dir,
                pg_name: None,
            },
            Backend::Postgres => {
                let name = format!(
                    "scelle_test_{}_{}",
                    std::process::id(),
                    NEXT_DB.fetch_add(1, Ordering::SeqCst)
                );
                let mut admin = diesel::PgConnection::establish(&format!(
                    "{}/postgres",
                    pg_server_url()
                ))
                .expect(
                    "PostgreSQL must be reachable (set SCELLE_TEST_PG_URL or run scripts/test.sh)",
                );
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .unwrap();
                Self {
                    url: DatabaseUrl::Postgres(format!("{}/{name}", pg_server_url())),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The arguments that point the `scelle` binary at this database (none for SQLite: the data
    /// folder holds it).
    pub fn cli_args(&self) -> Vec<String> {
        match &self.url {
            scelle::storage::DatabaseUrl::Postgres(url) => {
                vec!["--database-url".into(), url.clone()]
            }
            _ => vec![],
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// A raw connection for tampering behind Scellé's back.
    pub fn raw(&self) -> scelle::storage::DbConnection {
        self.url.connect().unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut admin) =
                diesel::PgConnection::establish(&format!("{}/postgres", pg_server_url()))
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

pub fn init(db: &TestDb) -> String {
    let report = admin::init(&InitOptions {
        data_dir: db.data_dir(),
        database: db.url.clone(),
        origin: "tg.police.dcpj/scelle".into(),
        agency_id: "tg.police.dcpj".into(),
        agency_name: "DCPJ".into(),
    })
    .unwrap();
    report.verifier_key
}

/// A running node on a loopback port, with tokens for a few users.
pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    pub verifier_key: String,
    pub investigator: String,
    pub investigator_id: String,
    pub analyst: String,
    pub analyst_id: String,
    pub other_agency: String,
    pub prosecutor: String,
    /// Tokens of the users a test added with `spawn_with`, by the name it gave them.
    pub extra: std::collections::HashMap<String, String>,
    server: Option<actix_web::dev::ServerHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestApp {
    pub fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| Default::default())
    }

    /// A node with the usual users plus whatever `setup` adds (it returns named tokens).
    pub fn spawn_with(
        backend: Backend,
        setup: impl FnOnce(&Node) -> std::collections::HashMap<String, String>,
    ) -> Self {
        Self::spawn_behind(backend, setup, scelle::http::TrustedProxies::default())
    }

    /// As `spawn_with`, believing the `X-Forwarded-For` of the given reverse proxies.
    pub fn spawn_behind(
        backend: Backend,
        setup: impl FnOnce(&Node) -> std::collections::HashMap<String, String>,
        proxies: scelle::http::TrustedProxies,
    ) -> Self {
        let db = TestDb::new(backend);
        let verifier_key = init(&db);
        let (ledger, _handle) = Node::open(&db.data_dir(), &db.url, 8).unwrap();
        admin::add_agency(
            &ledger,
            "ci.lab.regional",
            None,
            "Laboratoire régional",
            true,
        )
        .unwrap();
        admin::add_agency(&ledger, "bj.police.ocrc", None, "OCRC", false).unwrap();
        let (inv, investigator) = admin::add_user(
            &ledger,
            "Kossi A.",
            scelle_verifier::model::Role::Investigator,
            "tg.police.dcpj",
            None,
        )
        .unwrap();
        let (ana, analyst) = admin::add_user(
            &ledger,
            "Awa K.",
            scelle_verifier::model::Role::LabAnalyst,
            "ci.lab.regional",
            None,
        )
        .unwrap();
        let (_, other_agency) = admin::add_user(
            &ledger,
            "Ibrahim S.",
            scelle_verifier::model::Role::Investigator,
            "bj.police.ocrc",
            None,
        )
        .unwrap();
        let (_, prosecutor) = admin::add_user(
            &ledger,
            "Me Adjoa",
            scelle_verifier::model::Role::Prosecutor,
            "tg.police.dcpj",
            None,
        )
        .unwrap();
        let extra = setup(&ledger);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let ledger = Arc::new(ledger);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server =
                    scelle::http::build_server_with_tls(ledger, listener, None, proxies).unwrap();
                tx.send(server.handle()).unwrap();
                let _ = server.await;
            })
        });
        let server = rx.recv().unwrap();
        Self {
            db,
            base,
            verifier_key,
            investigator,
            investigator_id: inv.id,
            analyst,
            analyst_id: ana.id,
            other_agency,
            prosecutor,
            extra,
            server: Some(server),
            thread: Some(thread),
        }
    }

    pub fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    pub fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .agent()
            .post(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(body)
            .unwrap();
        read(resp)
    }

    pub fn post_raw(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        let resp = self
            .agent()
            .post(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .send(body)
            .unwrap();
        read(resp)
    }

    pub fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let resp = self
            .agent()
            .get(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        read(resp)
    }

    pub fn get_text(&self, token: &str, path: &str) -> (u16, String) {
        let mut resp = self
            .agent()
            .get(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    /// The `kind` of every entry from `from` on.
    pub fn kinds_since(&self, from: u64) -> Vec<String> {
        let mut c = self.db.raw();
        let size = scelle::storage::log_store::head(&mut c).unwrap().0;
        (from..size)
            .map(|seq| {
                let body = scelle::storage::log_store::entry_body(&mut c, seq)
                    .unwrap()
                    .unwrap();
                let v: Value = serde_json::from_slice(&body).unwrap();
                v["kind"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// Shares a case with the regional lab for forensic analysis (a cross-border share from
    /// Togo to Côte d'Ivoire, so it carries a handling code).
    pub fn share_with_lab(&self, case_id: &str) -> Value {
        let (status, body) = self.post(
            &self.investigator,
            &format!("/api/v1/cases/{case_id}/shares"),
            &json!({"agency": "ci.lab.regional", "handling": ["H2"],
                    "purposes": ["forensic_analysis"], "expires_at": "2030-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"}),
        );
        assert_eq!(status, 201, "{body}");
        body
    }

    pub fn log_size(&self) -> u64 {
        let mut c = self.db.raw();
        scelle::storage::log_store::head(&mut c).unwrap().0
    }

    pub fn open_case(&self, reference: &str) -> Value {
        let (status, body) = self.post(
            &self.investigator,
            "/api/v1/cases",
            &json!({"reference": reference, "title": "Escroquerie en ligne", "jurisdiction": "TG",
                    "offence": "Budapest art. 8", "legal_basis": "Réquisition R-2026-118"}),
        );
        assert_eq!(status, 201, "{body}");
        body
    }

    pub fn register(&self, case_id: &str, seal: &str, sha256: &str) -> Value {
        let (status, body) = self.post(
            &self.investigator,
            &format!("/api/v1/cases/{case_id}/evidence"),
            &json!({"exhibit_number": format!("P-{seal}"), "seal_number": seal, "kind": "device",
                    "description": "Téléphone Tecno Spark, écran fissuré", "sha256": sha256, "size_bytes": 1024,
                    "collected_at": "2026-11-20T10:15:00+00:00", "location": "Domicile, Lomé"}),
        );
        assert_eq!(status, 201, "{body}");
        body
    }
}

fn read(mut resp: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = futures_stop(server);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn futures_stop(server: actix_web::dev::ServerHandle) -> std::thread::Result<()> {
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server.stop(false))).join()
}

/// Asserts a bilingual error body with the given status and code.
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    let e = &body["error"];
    assert_eq!(e["code"], want_code, "{body}");
    assert!(
        e["message_fr"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        e["message_en"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_ne!(e["message_fr"], e["message_en"], "{body}");
}

/// A Togolese investigator added straight through the ledger, as the use cases see them.
pub fn add_investigator(ledger: &Node, name: &str) -> scelle::authz::AuthUser {
    use scelle_verifier::model::{Jurisdiction, Role};
    let (row, _) =
        admin::add_user(ledger, name, Role::Investigator, "tg.police.dcpj", None).unwrap();
    scelle::authz::AuthUser {
        id: row.id,
        name: row.name,
        role: Role::Investigator,
        agency: row.agency_id,
        state: Jurisdiction::Togo,
        agency_is_lab: false,
    }
}

/// A file exhibit and seal numbered `n`, with the given SHA-256 and nothing optional.
pub fn file_evidence(n: usize, sha256: &str) -> scelle::usecases::evidence::NewEvidence {
    scelle::usecases::evidence::NewEvidence {
        exhibit_number: format!("P{n}"),
        seal_number: format!("S{n}"),
        kind: "file".into(),
        description: None,
        sha256: sha256.into(),
        sha512: None,
        sha1: None,
        md5: None,
        size_bytes: Some(10),
        collected_at: "2026-11-20T10:00:00+00:00".into(),
        location: None,
        acquisition_tool: None,
        acquisition_tool_version: None,
        acquisition_settings: None,
        parent_id: None,
    }
}

/// The last line a successful CLI command printed (a new user's token, for one).
pub fn last_line_of(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

/// A case of Togo's law with nothing optional, as an investigator of the TG DCPJ opens it.
pub fn togo_case(reference: &str) -> scelle::usecases::cases::NewCase {
    scelle::usecases::cases::NewCase {
        reference: reference.into(),
        title: None,
        jurisdiction: "TG".into(),
        offence: "o".into(),
        legal_basis: "l".into(),
        jurisdiction_basis: None,
    }
}

/// A loopback port free at the time of asking (for a server the test starts as a process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
