//! The test harness: [`TestApp`] gives each test a fresh database (a temporary SQLite file) with
//! the demo catalogue, and [`Client`] drives the real router like a browser: it keeps cookies,
//! remembers the CSRF token of the last page, and follows nothing by itself.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use preuves_db::{Actor, Db, NewUser, OrganisationId, Role, User};
use preuves_domain::Siren;
use preuves_storage::BlobStore;
use preuves_web::{AppState, WebConfig};
use tokio::sync::OnceCell;
use tower::ServiceExt;

/// The password of every test account.
pub(crate) const PASSWORD: &str = "mot-de-passe-de-test";

static HASH: OnceCell<String> = OnceCell::const_new();

/// One argon2id hash for every test account (hashing is deliberately slow).
async fn password_hash() -> String {
    HASH.get_or_init(|| async {
        preuves_web::security::hash_password(PASSWORD.to_owned())
            .await
            .expect("hash")
    })
    .await
    .clone()
}

/// A platform over a fresh database.
pub(crate) struct TestApp {
    pub(crate) db: Db,
    pub(crate) router: Router,
    /// Where the platform stores files (in memory unless [`TestApp::with_local_blobs`]).
    pub(crate) blobs: BlobStore,
    pub(crate) dir: tempfile::TempDir,
}

impl TestApp {
    /// A platform with the demo catalogue and default settings (cookies not `Secure`).
    pub(crate) async fn new() -> Self {
        Self::with_config(WebConfig {
            secure_cookies: false,
            ..WebConfig::default()
        })
        .await
    }

    /// A platform with the demo catalogue and these settings.
    pub(crate) async fn with_config(config: WebConfig) -> Self {
        Self::build(config, false).await
    }

    /// A platform storing files in a folder of its temporary directory (`blobs/`), with these
    /// settings: tests look at what is left on disk.
    pub(crate) async fn with_local_blobs(config: WebConfig) -> Self {
        Self::build(config, true).await
    }

    /// A platform seeded with the catalogue at `catalogue_path` instead of the demo one.
    pub(crate) async fn with_catalogue(catalogue_path: &std::path::Path) -> Self {
        let config = WebConfig {
            secure_cookies: false,
            ..WebConfig::default()
        };
        Self::build_with(config, false, catalogue_path).await
    }

    async fn build(config: WebConfig, local: bool) -> Self {
        let catalogue_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../demo/catalogue/catalogue.toml");
        Self::build_with(config, local, &catalogue_path).await
    }

    async fn build_with(config: WebConfig, local: bool, catalogue_path: &std::path::Path) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::connect(&Db::sqlite_url(&dir.path().join("test.sqlite3")))
            .await
            .expect("database");
        let loaded = preuves_import::catalogue::load_catalogue(catalogue_path).expect("catalogue");
        db.import_catalogue(&loaded.catalogue, &[], "demo", &Actor::System)
            .await
            .expect("seed");
        let blobs = if local {
            BlobStore::local(&dir.path().join("blobs")).expect("blob folder")
        } else {
            BlobStore::memory()
        };
        let router =
            preuves_web::router(AppState::new(db.clone(), config).with_blobs(blobs.clone()));
        Self {
            db,
            router,
            blobs,
            dir,
        }
    }

    /// A vendor organisation.
    pub(crate) async fn organisation(&self, name: &str, siren: &str) -> OrganisationId {
        self.db
            .create_organisation(
                name,
                &Siren::parse_checked(siren).expect("siren"),
                &Actor::System,
            )
            .await
            .expect("organisation")
            .id
    }

    /// An account with [`PASSWORD`].
    pub(crate) async fn user(
        &self,
        email: &str,
        role: Role,
        organisation: Option<OrganisationId>,
    ) -> User {
        self.db
            .create_user(
                &NewUser {
                    email,
                    display_name: email.split('@').next().unwrap_or(email),
                    role,
                    organisation,
                    password_hash: &password_hash().await,
                },
                &Actor::System,
            )
            .await
            .expect("user")
    }

    /// A new browser, with no cookie.
    pub(crate) fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: BTreeMap::new(),
            csrf: None,
        }
    }

    /// A browser signed in as a new account of this role.
    pub(crate) async fn signed_in(
        &self,
        email: &str,
        role: Role,
        organisation: Option<OrganisationId>,
    ) -> Client {
        self.user(email, role, organisation).await;
        let mut client = self.client();
        let r = client.sign_in(email, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in of {email}: {}",
            r.body
        );
        client
    }
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl TestResponse {
    /// The `Location` header.
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// A browser: cookies and the last page's CSRF token.
#[derive(Clone)]
pub(crate) struct Client {
    router: Router,
    pub(crate) cookies: BTreeMap<String, String>,
    csrf: Option<String>,
}

/// The value of the first `name="csrf"` hidden field of a page.
pub(crate) fn csrf_of(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[i..].find('"')?;
    Some(html[i..i + end].to_owned())
}

impl Client {
    /// A browser over any router (tests that build their own).
    pub(crate) fn over(router: Router) -> Self {
        Self {
            router,
            cookies: BTreeMap::new(),
            csrf: None,
        }
    }

    /// Sends a request with the cookies; stores the cookies and CSRF token it gets back.
    pub(crate) async fn send(&mut self, request: Request<Body>) -> TestResponse {
        let (mut parts, body) = request.into_parts();
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            parts
                .headers
                .insert(header::COOKIE, cookie.parse().expect("cookie"));
        }
        let response = self
            .router
            .clone()
            .oneshot(Request::from_parts(parts, body))
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().expect("ascii cookie");
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if name.trim_start_matches("__Host-") == "preuves_session" {
                // A new session has its own CSRF token: the next form fetches a page first.
                self.csrf = None;
            }
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(t) = csrf_of(&body) {
            self.csrf = Some(t);
        }
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub(crate) async fn get(&mut self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    /// The CSRF token forms must carry (fetching a page first if none was seen).
    pub(crate) async fn csrf(&mut self) -> String {
        if self.csrf.is_none() {
            // A signed-in page carries the session's token; an anonymous one only the sign-in form.
            self.get("/").await;
        }
        if self.csrf.is_none() {
            self.get("/connexion").await;
        }
        self.csrf.clone().expect("a page with a csrf field")
    }

    /// `POST path` with a URL-encoded form; adds the CSRF token unless `fields` has one.
    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if !fields.iter().any(|(k, _)| k == "csrf") {
            fields.push(("csrf".to_owned(), self.csrf().await));
        }
        let body = serde_urlencoded::to_string(&fields).expect("form");
        self.send(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("request"),
        )
        .await
    }

    /// `GET` the `Location` of a redirect.
    pub(crate) async fn follow(&mut self, response: &TestResponse) -> TestResponse {
        assert!(
            response.status.is_redirection(),
            "expected a redirect, got {} {}",
            response.status,
            response.body
        );
        let to = response.location().to_owned();
        self.get(&to).await
    }

    /// `POST path` as `multipart/form-data`: the CSRF token first, then `fields`, then the file
    /// part `fichier` streamed from `file` (which may fail midway, like a dropped connection).
    pub(crate) async fn upload_stream<S>(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        file: S,
    ) -> TestResponse
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
    {
        use futures_util::StreamExt;
        const BOUNDARY: &str = "----preuves-test-boundary-7d1f";
        let mut head = String::new();
        let csrf = self.csrf().await;
        for (name, value) in std::iter::once(("csrf", csrf.as_str())).chain(fields.iter().copied())
        {
            head.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        head.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ));
        let tail = format!("\r\n--{BOUNDARY}--\r\n");
        let body = futures_util::stream::once(async move { Ok(bytes::Bytes::from(head)) })
            .chain(file)
            .chain(futures_util::stream::once(async move {
                Ok(bytes::Bytes::from(tail))
            }));
        self.send(
            Request::post(path)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(Body::from_stream(body))
                .expect("request"),
        )
        .await
    }

    /// `POST path` as `multipart/form-data` with one file held in memory.
    pub(crate) async fn upload(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        content: &[u8],
    ) -> TestResponse {
        let chunk = bytes::Bytes::copy_from_slice(content);
        self.upload_stream(
            path,
            fields,
            file_name,
            futures_util::stream::once(async move { Ok(chunk) }),
        )
        .await
    }

    /// Signs in through the form.
    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> TestResponse {
        self.get("/connexion").await;
        self.post(
            "/connexion",
            &[("email", email), ("password", password), ("suivant", "/")],
        )
        .await
    }
}
