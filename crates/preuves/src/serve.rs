//! `serve`: the web platform on an address, until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use preuves_web::{AppState, WebConfig};
use tokio::net::TcpListener;

use crate::{Failure, Storage};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    storage: Storage,
    /// The address to listen on.
    #[arg(long, env = "PREUVES_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Loads the demonstration catalogue and accounts (unless already there).
    #[arg(long)]
    demo: bool,
    /// Another catalogue for --demo than the one embedded in this binary (a catalogue.toml).
    #[arg(long)]
    demo_catalogue: Option<PathBuf>,
    /// Cookies without the `Secure` attribute (plain HTTP on another host than localhost).
    #[arg(long)]
    insecure_cookies: bool,
    /// Takes the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    #[arg(long)]
    trust_proxy: bool,
    /// Where proof files go: a folder (default `<data-dir>/blobs`), or `s3://bucket/prefix?endpoint=...`
    /// (S3-compatible storage, in a binary built with `--features s3`; credentials from the
    /// standard AWS environment variables).
    #[arg(long, env = "PREUVES_BLOB_URL", default_value = "")]
    blob_url: String,
    /// The platform's public address, printed on attestations for their verification link
    /// (default: `http://` and the --bind address).
    #[arg(long, env = "PREUVES_PUBLIC_URL")]
    public_url: Option<String>,
    /// The largest proof file accepted, in MiB.
    #[arg(long, env = "PREUVES_MAX_UPLOAD_MIB", default_value_t = 500)]
    max_upload_mib: u64,
    /// Longest wait, in seconds, for a request's line and headers (also how long a kept-alive
    /// connection may wait for its next request).
    #[arg(long, env = "PREUVES_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    header_timeout_seconds: u64,
    /// Longest wait, in seconds, for the next piece of a request body (an upload that stalls).
    #[arg(long, env = "PREUVES_BODY_TIMEOUT_SECONDS", default_value_t = 30)]
    body_timeout_seconds: u64,
    /// Seconds without a byte moving either way before a waiting connection is closed (a client
    /// that stops reading its response).
    #[arg(long, env = "PREUVES_IDLE_TIMEOUT_SECONDS", default_value_t = 60)]
    idle_timeout_seconds: u64,
    /// Connections served at once; further ones wait in the listener's queue.
    #[arg(long, env = "PREUVES_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Logs as JSON lines.
    #[arg(long)]
    log_json: bool,
    /// At start, blobs without a record and partial uploads older than this are removed (an
    /// upload another process is finishing is younger).
    #[arg(long, env = "PREUVES_CLEANUP_GRACE_SECONDS", default_value_t = 86_400)]
    cleanup_grace_seconds: u64,
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second initialisation (tests) is harmless: the first subscriber stays.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub(crate) async fn serve(args: ServeArgs) -> Result<(), Failure> {
    init_logs(args.log_json);
    // Held while serving: `preuves restore` refuses a data folder in use.
    let _lock = match args.storage.database_url {
        None => Some(crate::backup::DataDirLock::shared(&args.storage.data_dir)?),
        Some(_) => None,
    };
    let db = args.storage.connect().await?;
    tracing::info!(backend = db.backend().name(), "database ready");
    let demo = if args.demo {
        Some(crate::demo::seed(&db, args.demo_catalogue.as_deref()).await?)
    } else {
        None
    };
    let config = WebConfig {
        secure_cookies: !args.insecure_cookies,
        trust_proxy: args.trust_proxy,
        max_proof_upload: args.max_upload_mib.saturating_mul(1024 * 1024),
        public_url: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.bind))
            .trim_end_matches('/')
            .to_owned(),
        ..WebConfig::default()
    };
    let blobs = preuves_storage::BlobStore::from_url(&args.blob_url, &args.storage.data_dir)
        .map_err(|e| Failure::input(format!("stockage des fichiers inutilisable : {e}")))?;
    // What a crash can leave behind: partial uploads, blobs whose record never committed.
    let grace = std::time::Duration::from_secs(args.cleanup_grace_seconds);
    crate::cleanup::at_start(&db, &blobs, grace).await;
    let app = preuves_web::router(AppState::new(db, config).with_blobs(blobs));
    let listener = TcpListener::bind(args.bind)
        .await
        .map_err(|e| Failure::input(format!("écoute impossible sur {} : {e}", args.bind)))?;
    let address = listener.local_addr().map_err(Failure::unexpected)?;
    let mut banner = format!("preuves écoute sur http://{address}/\n");
    if let Some(accounts) = demo {
        banner.push_str("Comptes de démonstration (mot de passe identique pour les trois) :\n");
        for (role, email) in accounts.accounts {
            banner.push_str(&format!("  {role:<15} {email}\n"));
        }
        banner.push_str(&format!("  mot de passe    {}\n", crate::demo::PASSWORD));
    }
    // A closed standard output (a supervisor that only logs stderr) must not stop the server.
    if let Err(e) = crate::simulate::print(&banner) {
        tracing::warn!(error = %e.message, "start-up banner not printed");
    }
    let seconds = |s: u64| std::time::Duration::from_secs(s.max(1));
    let limits = preuves_web::server::ServerLimits {
        header_timeout: seconds(args.header_timeout_seconds),
        body_idle_timeout: seconds(args.body_timeout_seconds),
        idle_timeout: seconds(args.idle_timeout_seconds),
        max_connections: args.max_connections.max(1),
    };
    preuves_web::server::serve(listener, app, limits, shutdown())
        .await
        .map_err(Failure::unexpected)
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
