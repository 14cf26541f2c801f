//! `preuves serve` as a process: two servers over one database share sessions (a sign-in on one
//! is valid on the other, a sign-out on one ends it on both), on SQLite always and on PostgreSQL
//! when `PREUVES_TEST_POSTGRES_URL` is set.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A running `preuves serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    start_in(&crate::support::root(), args)
}

/// Starts a server with `dir` as its working directory.
fn start_in(dir: &std::path::Path, args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_preuves"))
        .arg("serve")
        .args(["--bind", "127.0.0.1:0", "--insecure-cookies"])
        .args(args)
        .current_dir(dir)
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
    Server { child, port }
}

/// A minimal HTTP/1.1 exchange: `(status, headers, body)`.
fn http(port: u16, method: &str, path: &str, cookie: &str, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn cookie_value(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .filter_map(|c| c.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn csrf_field(body: &str) -> String {
    let i = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    body[i..i + 64].to_owned()
}

fn sessions_are_shared(storage: &[&str]) {
    let mut first_args = vec!["--demo"];
    first_args.extend_from_slice(storage);
    let a = start(&first_args);
    let b = start(storage);

    // Sign in on A.
    let (_, head, body) = http(a.port, "GET", "/connexion", "", "");
    let anon = cookie_value(&head, "preuves_csrf").expect("csrf cookie");
    let form = format!(
        "csrf={}&email=editeur%40demo.preuves.fr&password=demo-preuves-2026&suivant=%2F",
        csrf_field(&body)
    );
    let (status, head, _) = http(
        a.port,
        "POST",
        "/connexion",
        &format!("preuves_csrf={anon}"),
        &form,
    );
    assert_eq!(status, 303, "{head}");
    let session = format!(
        "preuves_session={}",
        cookie_value(&head, "preuves_session").expect("session")
    );

    // The session works on B.
    let (status, _, body) = http(b.port, "GET", "/", &session, "");
    assert_eq!(status, 200);
    assert!(body.contains("Bonjour Camille Éditeur"), "{body}");

    // Signing out on B ends it on A too.
    let csrf = csrf_field(&body);
    let (status, _, _) = http(
        b.port,
        "POST",
        "/deconnexion",
        &session,
        &format!("csrf={csrf}"),
    );
    assert_eq!(status, 303);
    let (_, _, body) = http(a.port, "GET", "/", &session, "");
    assert!(!body.contains("Bonjour"), "signed out everywhere");
}

/// The real server closes a connection that sends nothing within `--header-timeout-seconds`,
/// and one whose body stalls past `--body-timeout-seconds` (the bounds of issue 13).
#[test]
fn silent_and_stalled_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let server = start(&[
        "--data-dir",
        &data,
        "--header-timeout-seconds",
        "1",
        "--body-timeout-seconds",
        "1",
    ]);
    let closed_within = |stream: &mut TcpStream| {
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let started = std::time::Instant::now();
        let mut received = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("still open after {:?}: {e}", started.elapsed()),
            }
        }
        (
            started.elapsed(),
            String::from_utf8_lossy(&received).into_owned(),
        )
    };
    let mut silent = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let (elapsed, _) = closed_within(&mut silent);
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");

    let mut stalled = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stalled
        .write_all(
            format!(
                "POST /connexion HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf=",
                server.port
            )
            .as_bytes(),
        )
        .unwrap();
    let (elapsed, answer) = closed_within(&mut stalled);
    assert!(elapsed < std::time::Duration::from_secs(8), "{elapsed:?}");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
}

#[test]
fn two_servers_share_sessions_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    sessions_are_shared(&["--data-dir", &data]);
}

#[test]
fn two_servers_share_sessions_on_postgres() {
    let Ok(admin_url) = std::env::var("PREUVES_TEST_POSTGRES_URL") else {
        eprintln!(
            "skipped: two_servers_share_sessions_on_postgres: PREUVES_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    let name = format!("preuves_serve_test_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let admin = runtime
        .block_on(preuves_db::Db::connect_without_migrating(&admin_url))
        .unwrap();
    runtime.block_on(async {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(admin.pool())
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin.pool())
            .await
            .unwrap();
    });
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let result = std::panic::catch_unwind(|| {
        sessions_are_shared(&["--data-dir", &data, "--database-url", &url])
    });
    runtime.block_on(async {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(admin.pool())
            .await;
    });
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// `serve --demo` started from an empty folder far from the repository serves the demonstration
/// catalogue embedded in the binary, and leaves no unpacked copy of it behind.
#[test]
fn demo_is_served_from_any_folder() {
    let empty = tempfile::tempdir().expect("temporary folder");
    let server = start_in(empty.path(), &["--demo", "--data-dir", "donnees"]);
    let (status, _, body) = http(server.port, "GET", "/catalogue", "", "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("DUI-MS"), "{body}");
    let (status, _, body) = http(server.port, "GET", "/catalogue/DPI/2", "", "");
    assert_eq!(status, 200, "{body}");
    let entries: Vec<String> = std::fs::read_dir(empty.path())
        .expect("folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["donnees"], "only the data folder is created");
}
