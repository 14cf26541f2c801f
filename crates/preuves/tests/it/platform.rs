//! Driving a real `preuves serve` process from the tests: start it on a data folder, kill it
//! (SIGKILL), and talk to it over plain HTTP/1.1 as a browser would (forms, multipart uploads,
//! cookies), with just enough parsing of the pages to find ids and hidden fields.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The demo vendor's sign-in.
pub(crate) const VENDOR_EMAIL: &str = "editeur@demo.preuves.fr";
/// The demo accounts' password.
pub(crate) const DEMO_PASSWORD: &str = "demo-preuves-2026";

/// A running `preuves serve`, killed (SIGKILL) when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `preuves serve --demo` on `data_dir` with `extra` arguments, on a free port; returns
    /// once it listens (its start-up cleanup is then done).
    pub(crate) fn start(data_dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_preuves"))
            .arg("serve")
            .args(["--bind", "127.0.0.1:0", "--insecure-cookies", "--demo"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .current_dir(crate::support::root())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("preuves serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("banner");
        // Keep draining the server's output so it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.trim().trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self { child, port }
    }

    /// Kills the server at once (SIGKILL: no shutdown, no flush) and waits for it.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: String,
    pub(crate) bytes: Vec<u8>,
}

impl Response {
    /// A header's value (case-insensitive name).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// A cookie set by the response.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.head
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("set-cookie")
                    .then_some(v.trim())
            })
            .filter_map(|c| c.split(';').next())
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// Sends `head` then `body` (in `chunks`, with `pause` between them) and reads the response;
/// `Err` when the connection fails (the server was killed).
fn exchange(
    port: u16,
    head: &str,
    body: &[u8],
    chunk: usize,
    pause: Duration,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.write_all(head.as_bytes())?;
    for part in body.chunks(chunk.max(1)) {
        stream.write_all(part)?;
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no response head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(Response {
        status,
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body,
    })
}

/// The body of a chunked response.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(raw.len());
        out.extend_from_slice(&raw[start..end]);
        raw = &raw[(end + 2).min(raw.len())..];
    }
    out
}

/// A signed-in browser: its session cookie and CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Browser {
    pub(crate) port: u16,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

/// Percent-encodes a form value.
pub(crate) fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The value of the first hidden `name` field of a page.
pub(crate) fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body.find(&marker)? + marker.len();
    body[i..].split('"').next().map(str::to_owned)
}

impl Browser {
    /// Signs in on the server at `port`.
    pub(crate) fn sign_in(port: u16, email: &str, password: &str) -> Self {
        let page = get_raw(port, "/connexion", "").expect("sign-in page");
        let anon = page.cookie("preuves_csrf").expect("csrf cookie");
        let csrf = hidden(&page.body, "csrf").expect("csrf field");
        let form = format!(
            "csrf={csrf}&email={}&password={}&suivant=%2F",
            form_encode(email),
            form_encode(password)
        );
        let r =
            post_raw(port, "/connexion", &format!("preuves_csrf={anon}"), &form).expect("sign-in");
        assert_eq!(r.status, 303, "sign-in refused: {}", r.head);
        let cookie = format!(
            "preuves_session={}",
            r.cookie("preuves_session").expect("session cookie")
        );
        let home = get_raw(port, "/", &cookie).expect("home page");
        let csrf = hidden(&home.body, "csrf").expect("csrf of the session");
        Self { port, cookie, csrf }
    }

    /// The same session on another server process (sessions live in the database).
    pub(crate) fn on(&self, port: u16) -> Self {
        Self {
            port,
            ..self.clone()
        }
    }

    pub(crate) fn get(&self, path: &str) -> std::io::Result<Response> {
        get_raw(self.port, path, &self.cookie)
    }

    /// Posts a form (the CSRF token is added first).
    pub(crate) fn post_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> std::io::Result<Response> {
        let mut form = format!("csrf={}", self.csrf);
        for (k, v) in fields {
            form.push_str(&format!("&{}={}", form_encode(k), form_encode(v)));
        }
        post_raw(self.port, path, &self.cookie, &form)
    }

    /// Posts a multipart form: the CSRF part first, then `fields`, then the file as `fichier`,
    /// sent in 64 KiB chunks with `pause` between them.
    pub(crate) fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        content: &[u8],
        pause: Duration,
    ) -> std::io::Result<Response> {
        let boundary = "----preuves-test-boundary-7f3a9c";
        let mut body = Vec::with_capacity(content.len() + 1024);
        let mut text = |name: &str, value: &str| {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        };
        text("csrf", &self.csrf);
        for (k, v) in fields {
            text(k, v);
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
            self.port,
            self.cookie,
            body.len()
        );
        exchange(self.port, &head, &body, 64 * 1024, pause)
    }
}

pub(crate) fn get_raw(port: u16, path: &str, cookie: &str) -> std::io::Result<Response> {
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n"
    );
    exchange(port, &head, &[], 1, Duration::ZERO)
}

pub(crate) fn post_raw(
    port: u16,
    path: &str,
    cookie: &str,
    form: &str,
) -> std::io::Result<Response> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        form.len()
    );
    exchange(port, &head, form.as_bytes(), 64 * 1024, Duration::ZERO)
}

/// The id of the demo solution A, from the new-candidature page.
pub(crate) fn solution_a(browser: &Browser) -> String {
    let page = browser
        .get("/candidatures/nouvelle")
        .expect("new-candidature page");
    assert_eq!(page.status, 200, "{}", page.head);
    let select = page
        .body
        .split("<select id=\"solution\"")
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .expect("the solution list");
    select
        .split("<option value=\"")
        .skip(1)
        .find_map(|o| {
            let (value, rest) = o.split_once('"')?;
            let label = rest.split_once('>')?.1.split('<').next()?.trim();
            (!value.is_empty() && (label == "A" || label.starts_with("A ")))
                .then(|| value.to_owned())
        })
        .unwrap_or_else(|| panic!("no solution A in {select}"))
}

/// Opens the webinar's case-3 candidature (DUI-MS, PDE, NRUs of DPI and MS2-PDE, the INS
/// component, three commercial names); returns its id.
pub(crate) fn open_case_3(browser: &Browser, solution: &str) -> std::io::Result<String> {
    let r = browser.post_form(
        "/candidatures/nouvelle",
        &[
            ("dispositif", "DUI-MS-2"),
            ("solution", solution),
            ("version", "4.3"),
            ("profil", "PDE"),
            ("nrus", "REF-DPI-2-0001\nREF-MS2-PDE-1-0001"),
            ("composant_nom", "Module INS"),
            ("composant_chapitres", "INS"),
            ("noms", "A\nA Santé\nA Social"),
            ("action", "enregistrer"),
        ],
    )?;
    assert_eq!(
        r.status, 303,
        "candidature not opened: {}\n{}",
        r.head, r.body
    );
    let location = r.header("location").expect("location").to_owned();
    Ok(location
        .trim_start_matches("/candidatures/")
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// An expected proof of a deposit page: `(exigence, scenario, preuve)`.
pub(crate) type Slot = (String, String, String);

/// The expected proofs a deposit page offers a form for.
pub(crate) fn deposit_slots(page: &str) -> Vec<Slot> {
    page.split("<form method=\"post\" action=\"")
        .skip(1)
        .filter(|f| f.contains("name=\"exigence\""))
        .filter_map(|f| {
            let form = f.split("</form>").next()?;
            Some((
                hidden(form, "exigence")?,
                hidden(form, "scenario")?,
                hidden(form, "preuve")?,
            ))
        })
        .collect()
}

/// `len` bytes of a PDF-looking file (the type check reads the first bytes), from `seed`.
pub(crate) fn pdf(len: usize, seed: u64) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut x = seed | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len.max(9));
    out
}

/// A fresh PostgreSQL database for one test, dropped with it; `None` (after saying the test is
/// skipped) when `PREUVES_TEST_POSTGRES_URL` is not set.
pub(crate) struct TestPostgres {
    /// The database's URL.
    pub(crate) url: String,
    admin_url: String,
    name: String,
}

impl TestPostgres {
    pub(crate) fn create(test: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var("PREUVES_TEST_POSTGRES_URL") else {
            eprintln!("skipped: {test}: PREUVES_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("preuves_{test}_{}", std::process::id());
        Self::admin(
            &admin_url,
            &[
                format!("DROP DATABASE IF EXISTS {name}"),
                format!("CREATE DATABASE {name}"),
            ],
        );
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        Some(Self {
            url: format!("{base}/{name}"),
            admin_url: admin_url.clone(),
            name,
        })
    }

    fn admin(admin_url: &str, statements: &[String]) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let admin = preuves_db::Db::connect_without_migrating(admin_url)
                .await
                .unwrap();
            for statement in statements {
                let _ = sqlx::query(statement).execute(admin.pool()).await;
            }
            admin.close().await;
        });
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        Self::admin(
            &self.admin_url,
            &[format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )],
        );
    }
}
