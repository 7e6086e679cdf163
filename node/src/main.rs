//! `concord-node`: runs one jurisdiction's Concord node.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use concord_node::config::NodeConfig;
use concord_node::server::{Node, StartError};

/// Exit codes follow sysexits(3) so service managers can tell causes apart.
const EX_CONFIG: u8 = 78;
const EX_OSERR: u8 = 71;
const EX_IOERR: u8 = 74;
const EX_SOFTWARE: u8 = 70;

#[derive(Parser)]
#[command(
    name = "concord-node",
    version,
    about = "Run a Concord node for one jurisdiction"
)]
struct Args {
    /// Path to node.toml.
    #[arg(long, env = "CONCORD_NODE_CONFIG")]
    config: PathBuf,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    // Must precede any TLS use; a second provider in the graph would make rustls panic.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    init_tracing(args.log_format);
    let config = match NodeConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), EX_CONFIG),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start runtime: {e}"), EX_OSERR),
    };
    runtime.block_on(async move {
        let node = match Node::start(config, shutdown_signal()).await {
            Ok(n) => n,
            Err(e) => return fail(&e.to_string(), exit_code(&e)),
        };
        match node.wait().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e.to_string(), exit_code(&e)),
        }
    })
}

fn exit_code(e: &StartError) -> u8 {
    match e {
        StartError::Tls(_)
        | StartError::WrongCertificate { .. }
        | StartError::KeyFile(_)
        | StartError::Signing { .. }
        | StartError::ClockOffset(_) => EX_CONFIG,
        StartError::Bind { .. } => EX_OSERR,
        StartError::Store(_) | StartError::State(_) | StartError::InterruptedRestore { .. } => {
            EX_IOERR
        }
        _ => EX_SOFTWARE,
    }
}

fn fail(message: &str, code: u8) -> ExitCode {
    let line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("concord-node: error: {line}");
    ExitCode::from(code)
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested");
}
