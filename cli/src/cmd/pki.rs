//! `concord pki`: a jurisdiction's development PKI on disk.
//!
//! `init` lays out a node directory (CA, node and admin certificates, the
//! record-signing key, `node.toml`, `admin.profile.toml`); `issue` adds a
//! person's certificate and profile (`--replace` renews it); `export-trust`
//! writes the trust bundle partners need; `renew-node`, `rotate-ca` and
//! `rotate-signing-key` replace what expires or leaks. Private keys are
//! written owner-only; replacing one goes through a new file and a rename,
//! never an overwrite in place.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use concord_node::config::{
    ConfigFile, FederationFile, LimitsFile, NodeConfig, SigningFile, TlsFile,
};
use concord_node::crypto::{keyfile, CertificateAuthority, KeyFileError, RecordSigner, Validity};
use concord_node::endpoint::endpoint_host;
use concord_node::identity::{self, Caller, Jurisdiction, Role};
use concord_node::signing_keys;
use concord_node::trust_bundle::TrustBundle;
use serde::Serialize;

use crate::client::Clients;
use crate::exit::{CliError, ErrorKind};
use crate::output::{print_json, print_text, OutputFormat};
use crate::profile::{Profile, ProfileFile};

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create a jurisdiction CA, node and admin certificates, keys and node.toml.
    Init(InitArgs),
    /// Issue a certificate and profile for a person (admin, officer, analyst, taskforce).
    Issue(IssueArgs),
    /// Write the trust bundle a partner jurisdiction needs to add this node as a peer.
    ExportTrust(ExportTrustArgs),
    /// Replace the record-signing key (node stopped); the old key stays to verify what it signed before.
    RotateSigningKey(RotateSigningKeyArgs),
    /// Renew the node's TLS certificate from the jurisdiction CA (same identity and
    /// endpoint, new key); takes effect when the node restarts. Partners need nothing.
    RenewNode(ReissueArgs),
    /// Replace the jurisdiction CA (node stopped; after a CA key compromise): new CA,
    /// node and admin certificates; people's certificates must be reissued, and
    /// partners must `peer update --verified-out-of-band` with the new bundle.
    RotateCa(ReissueArgs),
}

#[derive(Debug, Args)]
pub struct RotateSigningKeyArgs {
    /// Directory made by `concord pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The old key may have leaked from this time on (a duration ago such as
    /// 3d, or RFC 3339): what it signed since then stops verifying.
    /// Default: retire it now (a planned rotation).
    #[arg(long, value_name = "WHEN")]
    pub compromised_since: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Jurisdiction code, e.g. DE.
    #[arg(long, value_name = "CODE")]
    pub jurisdiction: String,
    /// Directory to create the files in.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Address the node's gRPC server binds, e.g. 127.0.0.1:7401.
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: String,
    /// host:port peers and clients use to reach the node (default: --listen).
    #[arg(long, value_name = "HOST:PORT")]
    pub advertise: Option<String>,
    /// Loopback address of the Prometheus metrics listener.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub metrics_listen: String,
    /// Address of the web console's HTTPS listener (client certificates
    /// required); without it the console is off and node.toml carries a
    /// commented `[web]` section to enable it.
    #[arg(long, value_name = "ADDR")]
    pub web_listen: Option<String>,
    /// Name of the node inside its jurisdiction.
    #[arg(long, value_name = "NAME", default_value = "node")]
    pub node_name: String,
    /// Name of the first administrator.
    #[arg(long, value_name = "NAME", default_value = "admin")]
    pub admin_name: String,
    /// Validity of the node and admin certificates in days (the CA gets 10 years).
    #[arg(long, value_name = "N", default_value_t = 365,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub days: i64,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Directory made by `concord pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// admin, officer, analyst or taskforce.
    #[arg(long, value_name = "ROLE")]
    pub role: String,
    /// Name of the certificate holder.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Validity in days.
    #[arg(long, value_name = "N", default_value_t = 365,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub days: i64,
    /// Renew: replace this holder's existing certificate, key, profile and
    /// PKCS#12 bundle (revoke the old certificate too if it may be misused).
    #[arg(long)]
    pub replace: bool,
    /// Encrypt the PKCS#12 bundle (for importing into a browser) with the
    /// first line of FILE. Default: a random password, written owner-only
    /// beside the bundle as `ROLE-NAME.p12-password`.
    #[arg(long, value_name = "FILE")]
    pub p12_password_file: Option<PathBuf>,
}

/// `pki renew-node` and `pki rotate-ca`: which node, and for how long its
/// reissued certificates are valid.
#[derive(Debug, Args)]
pub struct ReissueArgs {
    /// Directory made by `concord pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Validity of the reissued node (and admin) certificates in days; a new CA gets 10 years.
    #[arg(long, value_name = "N", default_value_t = 365,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub days: i64,
}

#[derive(Debug, Args)]
pub struct ExportTrustArgs {
    /// Directory made by `concord pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Trust bundle file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Validity of a jurisdiction CA.
pub const CA_DAYS: i64 = 3_650;

pub const CA_CERT: &str = "ca.crt";
pub const CA_KEY: &str = "ca.key";
pub const NODE_CERT: &str = "node.crt";
pub const NODE_KEY: &str = "node.key";
pub const SIGNING_KEY: &str = "signing.pk8";
pub const RETIRED_SIGNING_KEYS: &str = "signing-retired.toml";
pub const ADMIN_CERT: &str = "admin.crt";
pub const ADMIN_KEY: &str = "admin.key";
pub const NODE_CONFIG: &str = "node.toml";
pub const ADMIN_PROFILE: &str = "admin.profile.toml";
pub const DATA_DIR: &str = "data";

pub async fn run(cmd: PkiCommand, output: OutputFormat) -> Result<(), CliError> {
    match cmd {
        PkiCommand::Init(args) => {
            let report = init(&args)?;
            match output {
                OutputFormat::Json => print_json(&report),
                OutputFormat::Table => print_text(&report.render()),
            }
        }
        PkiCommand::Issue(args) => {
            let report = issue(&args)?;
            record_issuance(&args.dir, &report).await;
            match output {
                OutputFormat::Json => print_json(&report),
                OutputFormat::Table => print_text(&report.render()),
            }
        }
        PkiCommand::ExportTrust(args) => {
            let report = export_trust(&args)?;
            match output {
                OutputFormat::Json => print_json(&report),
                OutputFormat::Table => print_text(&report.render()),
            }
        }
        PkiCommand::RotateCa(args) => {
            let report = rotate_ca(&args)?;
            match output {
                OutputFormat::Json => print_json(&report),
                OutputFormat::Table => print_text(&report.render()),
            }
        }
        PkiCommand::RenewNode(args) => {
            let report = renew_node(&args)?;
            match output {
                OutputFormat::Json => print_json(&report),
                OutputFormat::Table => print_text(&report.render()),
            }
        }
        PkiCommand::RotateSigningKey(args) => {
            let report = rotate_signing_key(&args)?;
            match output {
                OutputFormat::Json => print_json(&report),
                OutputFormat::Table => print_text(&report.render()),
            }
        }
    }
}

/// Records the issuance in the node's audit trail through the jurisdiction's
/// admin profile; a node that cannot be reached is reported, not fatal (the
/// certificate exists either way, and issuing must work offline).
async fn record_issuance(dir: &Path, report: &IssueReport) {
    let recorded = async {
        let cert_pem = std::fs::read_to_string(&report.cert).map_err(|e| {
            CliError::internal(format!("cannot read {}: {e}", report.cert.display()))
        })?;
        let der = concord_node::tls::certs_from_pem(cert_pem.as_bytes())
            .and_then(|mut c| c.pop())
            .ok_or_else(|| CliError::internal("issued certificate unreadable"))?;
        let profile = crate::profile::Profile::load(&dir.join("admin.profile.toml"))?;
        {
            let mut admin = Clients::connect(&profile).await?.admin;
            let request = concord_proto::v1::RecordIssuanceRequest {
                identity: report.identity.clone(),
                certificate_sha256_hex: hex::encode(concord_node::crypto::sha256(&der)),
                certificate_pem: cert_pem,
            };
            let resp = admin
                .record_issuance(request)
                .await
                .map_err(|s| crate::client::rpc_error("RecordIssuance", &profile, &s))?;
            Ok::<u64, CliError>(resp.into_inner().audit_seq)
        }
    }
    .await;
    match recorded {
        Ok(seq) => eprintln!("Recorded in the node's audit trail as entry {seq}."),
        Err(e) => eprintln!(
            "warning: certificate issued, but not recorded in the node's audit trail ({}); \
             run `concord pki issue` while the node is up, or record it by hand",
            e.line()
        ),
    }
}

/// What `pki init` created.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub jurisdiction: String,
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub node_config: PathBuf,
    pub admin_profile: PathBuf,
    pub signing_key_id: String,
    #[serde(skip)]
    pub endpoint: String,
}

impl InitReport {
    fn render(&self) -> String {
        let mut out = format!(
            "Created jurisdiction {} in {}\n",
            self.jurisdiction,
            self.dir.display()
        );
        let names: Vec<String> = self
            .files
            .iter()
            .map(|f| f.strip_prefix(&self.dir).unwrap_or(f).display().to_string())
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(0);
        for name in &names {
            out.push_str(&format!("  {name:<width$}  {}\n", describe(name)));
        }
        out.push_str(&format!(
            "Record-signing key id: {}\nEndpoint: {}\n\nNext:\n  concord-node --config {}\n  concord --profile {} status\n",
            self.signing_key_id,
            self.endpoint,
            self.node_config.display(),
            self.admin_profile.display()
        ));
        out
    }
}

fn describe(file_name: &str) -> &'static str {
    match file_name {
        CA_CERT => "jurisdiction CA certificate",
        CA_KEY => "jurisdiction CA key (keep offline)",
        NODE_CERT => "node certificate",
        NODE_KEY => "node key",
        SIGNING_KEY => "record-signing key (Ed25519, PKCS#8)",
        ADMIN_CERT => "admin certificate",
        ADMIN_KEY => "admin key",
        NODE_CONFIG => "node configuration",
        ADMIN_PROFILE => "admin profile for the concord CLI",
        _ => "",
    }
}

/// Settings of a new node.toml that need a word for the operator reading
/// it; each gets its comment on the line above.
const CONFIG_NOTES: &[(&str, &str)] = &[
    (
        "max_pending_handshakes_per_address",
        "TLS handshakes in progress from one source address (IPv6: one /64); more are \
         closed at once. Raise it if clients reach the node through a NAT or TCP proxy.",
    ),
    (
        "tls_start_timeout_ms",
        "A connection that has not sent its TLS ClientHello this long after connecting \
         is closed (handshake_timeout_ms bounds the whole handshake).",
    ),
    (
        "max_connections_per_jurisdiction",
        "Connections all identities of one partner jurisdiction may hold together \
         (when absent: max_connections / 8).",
    ),
    (
        "reserved_connections_own_jurisdiction",
        "Of max_connections, kept for this jurisdiction's own people: partners together \
         never take these (when absent: max_connections / 4).",
    ),
    (
        "max_evidence_per_peer",
        "Equivocation evidence kept per peer: one proof (both signed envelopes) per held \
         record, at most this many entries and max_evidence_bytes_per_peer bytes; further \
         conflicts are counted (status, evidence list, concord_equivocations_total).",
    ),
    (
        "max_list_entries",
        "Caps on one imported watchlist (entries; names = primary names plus aliases; bytes \
         of entry text); a larger import is refused with RESOURCE_EXHAUSTED before it is \
         indexed. The OFAC SDN list has about 18,000 entries.",
    ),
];

/// The console is off by default; this is how an administrator turns it on.
const WEB_OFF_NOTE: &str =
    "\n# The web console for officers and analysts: HTTPS with client certificates\n\
# (the same identities, roles and revocations as the CLI). Uncomment to serve it.\n\
# [web]\n\
# listen = \"127.0.0.1:8443\"\n";

fn with_notes(config_text: &str) -> String {
    let mut out = String::with_capacity(config_text.len() + 1024);
    for line in config_text.lines() {
        let key = line.split(" = ").next().unwrap_or_default();
        if let Some((_, note)) = CONFIG_NOTES.iter().find(|(k, _)| *k == key) {
            out.push_str("# ");
            out.push_str(note);
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Creates a jurisdiction's node directory. Refuses a directory that already
/// holds a CA or a node configuration.
pub fn init(args: &InitArgs) -> Result<InitReport, CliError> {
    let jurisdiction: Jurisdiction = args
        .jurisdiction
        .parse()
        .map_err(CliError::invalid_argument)?;
    identity::validate_name(&args.admin_name)
        .map_err(|e| CliError::invalid_argument(format!("--admin-name: {e}")))?;
    let config_file = ConfigFile {
        jurisdiction: jurisdiction.to_string(),
        node_name: args.node_name.clone(),
        listen: args.listen.clone(),
        advertise: args.advertise.clone(),
        data_dir: DATA_DIR.into(),
        min_free_disk_bytes: concord_node::store::DEFAULT_MIN_FREE_BYTES,
        metrics_listen: Some(args.metrics_listen.clone()),
        tls: TlsFile {
            ca_cert: CA_CERT.into(),
            cert: NODE_CERT.into(),
            key: NODE_KEY.into(),
        },
        signing: SigningFile {
            key: SIGNING_KEY.into(),
            retired: RETIRED_SIGNING_KEYS.into(),
        },
        federation: FederationFile::default(),
        limits: LimitsFile::default().spelled_out(),
        audit: concord_node::config::AuditFile::default(),
        retention: concord_node::config::RetentionFile::default(),
        exchange: concord_node::config::ExchangeFile::default(),
        consult: concord_node::config::ConsultFile::default(),
        screening: concord_node::config::ScreeningFile::default(),
        taskforce: concord_node::config::TaskForceFile::default(),
        licensing: concord_node::config::LicensingFile::default(),
        risk: concord_node::risk::RiskFile::default(),
        web: concord_node::config::WebFile {
            listen: args.web_listen.clone(),
        },
    };
    // Check every setting before creating anything.
    let checked = NodeConfig::check(config_file.clone(), &args.dir.join(NODE_CONFIG), &args.dir)
        .map_err(|e| CliError::invalid_argument(e.problems.join("; ")))?;
    let endpoint = checked.advertise.clone();
    if endpoint_host(&endpoint)
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
    {
        return Err(CliError::invalid_argument(format!(
            "{endpoint} is a wildcard address peers and clients cannot reach; \
             pass --advertise HOST:PORT"
        )));
    }

    for existing in [CA_CERT, NODE_CONFIG] {
        if args.dir.join(existing).exists() {
            return Err(CliError::already_exists(format!(
                "{} already holds {existing}; refusing to overwrite an existing jurisdiction",
                args.dir.display()
            )));
        }
    }
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| CliError::config(format!("cannot create {}: {e}", args.dir.display())))?;
    let dir = std::fs::canonicalize(&args.dir)
        .map_err(|e| CliError::config(format!("cannot resolve {}: {e}", args.dir.display())))?;
    let mut files = Vec::new();
    let mut put = |name: &str, contents: &[u8], private: bool| -> Result<(), CliError> {
        let path = dir.join(name);
        if private {
            write_key(&path, contents)?;
        } else {
            write_new(&path, contents)?;
        }
        files.push(path);
        Ok(())
    };

    let (ca, ca_key) = CertificateAuthority::generate(&jurisdiction, Validity::days(CA_DAYS))
        .map_err(CliError::internal)?;
    put(CA_CERT, ca.cert_pem().as_bytes(), false)?;
    put(CA_KEY, ca_key.as_bytes(), true)?;

    let node = Caller::new(jurisdiction.clone(), Role::Node, &args.node_name)
        .map_err(|e| CliError::invalid_argument(format!("--node-name: {e}")))?;
    let hosts = vec![endpoint_host(&endpoint).to_owned()];
    let node_cert = ca
        .issue(&node, &hosts, Validity::days(args.days))
        .map_err(|e| CliError::invalid_argument(format!("node certificate: {e}")))?;
    put(NODE_CERT, node_cert.cert_pem.as_bytes(), false)?;
    put(NODE_KEY, node_cert.key_pem.as_bytes(), true)?;

    let pkcs8 = RecordSigner::generate_pkcs8().map_err(CliError::internal)?;
    let signing_key_id = RecordSigner::from_pkcs8(&pkcs8)
        .map_err(CliError::internal)?
        .key_id()
        .to_owned();
    put(SIGNING_KEY, &pkcs8, true)?;

    let admin = Caller::new(jurisdiction.clone(), Role::Admin, &args.admin_name)
        .map_err(|e| CliError::invalid_argument(format!("--admin-name: {e}")))?;
    let admin_cert = ca
        .issue(&admin, &[], Validity::days(args.days))
        .map_err(CliError::internal)?;
    put(ADMIN_CERT, admin_cert.cert_pem.as_bytes(), false)?;
    put(ADMIN_KEY, admin_cert.key_pem.as_bytes(), true)?;

    let config_text = toml::to_string(&config_file)
        .map_err(|e| CliError::internal(format!("cannot encode {NODE_CONFIG}: {e}")))?;
    let mut config_text = format!(
        "# Concord node of jurisdiction {jurisdiction}, written by `concord pki init`.\n\
         # Paths are relative to this file's directory.\n{}",
        with_notes(&config_text)
    );
    if args.web_listen.is_none() {
        config_text.push_str(WEB_OFF_NOTE);
    }
    put(NODE_CONFIG, config_text.as_bytes(), false)?;
    let node_config = dir.join(NODE_CONFIG);
    NodeConfig::load(&node_config).map_err(|e| {
        CliError::internal(format!("the written node configuration does not load: {e}"))
    })?;

    let profile = ProfileFile {
        endpoint: endpoint.clone(),
        ca_cert: CA_CERT.into(),
        cert: ADMIN_CERT.into(),
        key: ADMIN_KEY.into(),
    };
    put(
        ADMIN_PROFILE,
        profile.to_toml(&admin.uri())?.as_bytes(),
        false,
    )?;

    Ok(InitReport {
        jurisdiction: jurisdiction.to_string(),
        admin_profile: dir.join(ADMIN_PROFILE),
        node_config,
        dir,
        files,
        signing_key_id,
        endpoint,
    })
}

/// What `pki issue` created.
#[derive(Debug, Serialize)]
pub struct IssueReport {
    pub identity: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub profile: PathBuf,
    /// Key, certificate and CA chain for importing into a browser.
    pub p12: PathBuf,
    /// The file holding the bundle's generated password; None when the
    /// password came from `--p12-password-file`.
    pub p12_password: Option<PathBuf>,
    pub endpoint: String,
}

impl IssueReport {
    fn render(&self) -> String {
        let password = match &self.p12_password {
            Some(path) => path.display().to_string(),
            None => "(from --p12-password-file)".to_owned(),
        };
        format!(
            "Issued {}\n  certificate  {}\n  key          {}\n  profile      {}\n  \
             PKCS#12      {}\n  password     {password}\n",
            self.identity,
            self.cert.display(),
            self.key.display(),
            self.profile.display(),
            self.p12.display(),
        )
    }
}

/// The password of a person's PKCS#12 bundle: the first line of `file`, or
/// a fresh random one (returned with `generated` set) when none is given.
fn p12_password(file: Option<&Path>) -> Result<(String, bool), CliError> {
    let Some(file) = file else {
        let password = concord_node::crypto::generate_password().map_err(CliError::internal)?;
        return Ok((password, true));
    };
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError::invalid_argument(format!(
            "--p12-password-file: cannot read {}: {e}",
            file.display()
        ))
    })?;
    let password = text.lines().next().unwrap_or_default().trim();
    if password.is_empty() {
        return Err(CliError::invalid_argument(format!(
            "--p12-password-file: the first line of {} is empty; an unencrypted bundle \
             would hand the private key to anyone who copies the file",
            file.display()
        )));
    }
    Ok((password.to_owned(), false))
}

/// Issues a person's certificate from the jurisdiction CA in `dir`.
pub fn issue(args: &IssueArgs) -> Result<IssueReport, CliError> {
    let role: Role = args.role.parse().map_err(CliError::invalid_argument)?;
    if role == Role::Node {
        return Err(CliError::invalid_argument(
            "role node cannot be issued here: a node gets its certificate from `concord pki init`",
        ));
    }
    identity::validate_name(&args.name).map_err(CliError::invalid_argument)?;
    let config = NodeConfig::load(&args.dir.join(NODE_CONFIG)).map_err(CliError::config)?;
    let ca = load_ca(&args.dir)?;
    let holder = Caller::new(config.jurisdiction.clone(), role, &args.name)
        .map_err(CliError::invalid_argument)?;

    let stem = format!("{role}-{}", args.name);
    let cert_name = format!("{stem}.crt");
    let key_name = format!("{stem}.key");
    let profile_name = format!("{stem}.profile.toml");
    let p12_name = format!("{stem}.p12");
    let password_name = format!("{stem}.p12-password");
    // Read before anything is written: a bad password file leaves no half-issued holder.
    let (password, generated) = p12_password(args.p12_password_file.as_deref())?;
    if !args.replace {
        let mut ours = vec![&cert_name, &key_name, &profile_name, &p12_name];
        if generated {
            ours.push(&password_name);
        }
        for name in ours {
            if args.dir.join(name).exists() {
                return Err(CliError::already_exists(format!(
                    "{} already exists (pass --replace to renew it)",
                    args.dir.join(name).display()
                )));
            }
        }
    }
    let issued = ca
        .issue(&holder, &[], Validity::days(args.days))
        .map_err(CliError::internal)?;
    let dir = std::fs::canonicalize(&args.dir)
        .map_err(|e| CliError::config(format!("cannot resolve {}: {e}", args.dir.display())))?;
    let profile = ProfileFile {
        endpoint: config.advertise.clone(),
        ca_cert: relative_to(&config.ca_cert, &dir),
        cert: cert_name.clone().into(),
        key: key_name.clone().into(),
    };
    let profile_text = profile.to_toml(&holder.uri())?;
    let p12 = concord_node::crypto::to_pkcs12(
        &issued.cert_pem,
        &issued.key_pem,
        ca.cert_pem(),
        &holder.to_string(),
        &password,
    )
    .map_err(CliError::internal)?;
    let password_line = format!("{password}\n");
    if args.replace {
        replace_pair(
            &dir.join(&cert_name),
            &dir.join(&key_name),
            &issued.cert_pem,
            &issued.key_pem,
        )?;
        replace_file(&dir.join(&profile_name), profile_text.as_bytes())?;
        // The bundle holds the key: it is replaced like one, password first,
        // so a crash in between leaves an old bundle a rerun replaces.
        if generated {
            replace_private(&dir.join(&password_name), password_line.as_bytes())?;
        } else {
            remove_stale(&dir.join(&password_name))?;
        }
        replace_private(&dir.join(&p12_name), &p12)?;
    } else {
        write_new(&dir.join(&cert_name), issued.cert_pem.as_bytes())?;
        write_key(&dir.join(&key_name), issued.key_pem.as_bytes())?;
        write_new(&dir.join(&profile_name), profile_text.as_bytes())?;
        if generated {
            write_key(&dir.join(&password_name), password_line.as_bytes())?;
        }
        write_key(&dir.join(&p12_name), &p12)?;
    }
    Ok(IssueReport {
        identity: holder.uri(),
        cert: dir.join(cert_name),
        key: dir.join(key_name),
        profile: dir.join(profile_name),
        p12: dir.join(p12_name),
        p12_password: generated.then(|| dir.join(password_name)),
        endpoint: config.advertise,
    })
}

/// What `pki rotate-ca` did.
#[derive(Debug, Serialize)]
pub struct RotateCaReport {
    pub jurisdiction: String,
    pub ca_cert: PathBuf,
    /// Identities whose certificates were reissued here (node, admin).
    pub reissued: Vec<String>,
    /// Profiles in the directory whose certificates the old CA issued: reissue
    /// them with `concord pki issue --replace`.
    pub to_reissue: Vec<PathBuf>,
}

impl RotateCaReport {
    fn render(&self) -> String {
        let mut out = format!(
            "Replaced the CA of {}: {}\nReissued: {}\n",
            self.jurisdiction,
            self.ca_cert.display(),
            self.reissued.join(", ")
        );
        if !self.to_reissue.is_empty() {
            out.push_str(
                "Certificates the old CA issued, to reissue with `concord pki issue --replace`:\n",
            );
            for p in &self.to_reissue {
                out.push_str(&format!("  {}\n", p.display()));
            }
        }
        out.push_str(
            "\nNext: start the node; export the trust bundle (concord pki export-trust) and give it \
             to every partner with the new CA fingerprint by another channel; they run \
             concord peer update --trust FILE --verified-out-of-band\n",
        );
        out
    }
}

/// Replaces the jurisdiction CA and reissues the node's and the admin
/// profile's certificates from it. Refused while the node runs: it trusts
/// the CA it loaded, and would refuse the new admin certificate until
/// restarted. Every file is replaced through a sibling and a rename; after
/// a crash part-way, running the command again yields a consistent set.
pub fn rotate_ca(args: &ReissueArgs) -> Result<RotateCaReport, CliError> {
    let config = NodeConfig::load(&args.dir.join(NODE_CONFIG)).map_err(CliError::config)?;
    refuse_while_running(&config, "replacing its CA")?;
    let admin_profile = Profile::load(&args.dir.join(ADMIN_PROFILE))?;
    let admin = std::fs::read(&admin_profile.cert)
        .ok()
        .and_then(|pem| concord_node::tls::certs_from_pem(&pem))
        .and_then(|c| c.first().and_then(|der| Caller::from_cert_der(der).ok()))
        .ok_or_else(|| {
            CliError::config(format!(
                "cannot read the admin identity from {}",
                admin_profile.cert.display()
            ))
        })?;

    let (ca, ca_key) =
        CertificateAuthority::generate(&config.jurisdiction, Validity::days(CA_DAYS))
            .map_err(CliError::internal)?;
    let admin_cert = ca
        .issue(&admin, &[], Validity::days(args.days))
        .map_err(CliError::internal)?;

    replace_pair(
        &config.ca_cert,
        &args.dir.join(CA_KEY),
        ca.cert_pem(),
        &ca_key,
    )?;
    let (node, _) = reissue_node_certificate(&config, &ca, args.days)?;
    replace_pair(
        &admin_profile.cert,
        &admin_profile.key,
        &admin_cert.cert_pem,
        &admin_cert.key_pem,
    )?;
    let to_reissue = other_profiles(&args.dir, &args.dir.join(ADMIN_PROFILE));
    Ok(RotateCaReport {
        jurisdiction: config.jurisdiction.to_string(),
        ca_cert: config.ca_cert,
        reissued: vec![node.to_string(), admin.to_string()],
        to_reissue,
    })
}

/// Profiles in `dir` other than `admin`: people the CA issued certificates to.
fn other_profiles(dir: &Path, admin: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".profile.toml"))
                        && p != admin
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Refuses when a node holds the store lock of `config`'s data directory.
fn refuse_while_running(config: &NodeConfig, doing: &str) -> Result<(), CliError> {
    if config.data_dir.exists() {
        concord_node::store::Store::open(&config.data_dir).map_err(|e| {
            CliError::new(
                ErrorKind::FailedPrecondition,
                format!("stop the node before {doing}: {e}"),
            )
        })?;
    }
    Ok(())
}

/// What `pki renew-node` did.
#[derive(Debug, Serialize)]
pub struct RenewReport {
    pub identity: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// RFC 3339.
    pub not_after: Option<String>,
}

impl RenewReport {
    fn render(&self) -> String {
        format!(
            "Renewed the node certificate of {} (valid until {}): {}\n\
             Restart the node to serve it; partners trust the same CA and need nothing.\n",
            self.identity,
            self.not_after.as_deref().unwrap_or("?"),
            self.cert.display()
        )
    }
}

/// Issues the node a new TLS certificate and key with the identity and
/// endpoint of the current one. The running node keeps its old certificate
/// until restarted, so renewing ahead of expiry needs no downtime planning.
pub fn renew_node(args: &ReissueArgs) -> Result<RenewReport, CliError> {
    let config = NodeConfig::load(&args.dir.join(NODE_CONFIG)).map_err(CliError::config)?;
    let ca = load_ca(&args.dir)?;
    let (node, issued) = reissue_node_certificate(&config, &ca, args.days)?;
    let not_after = concord_node::tls::certs_from_pem(issued.cert_pem.as_bytes())
        .and_then(|c| {
            c.first()
                .and_then(|der| Caller::not_after_unix_ms(der).ok())
        })
        .and_then(crate::output::rfc3339);
    Ok(RenewReport {
        identity: node.uri(),
        cert: config.cert,
        key: config.key,
        not_after,
    })
}

/// Issues the node of `config` a new key and certificate from `ca` (same
/// identity and endpoint) and puts them in place of the old ones.
fn reissue_node_certificate(
    config: &NodeConfig,
    ca: &CertificateAuthority,
    days: i64,
) -> Result<(Caller, concord_node::crypto::IssuedCertificate), CliError> {
    let node = Caller::new(config.jurisdiction.clone(), Role::Node, &config.node_name)
        .map_err(CliError::config)?;
    let hosts = vec![endpoint_host(&config.advertise).to_owned()];
    let issued = ca
        .issue(&node, &hosts, Validity::days(days))
        .map_err(|e| CliError::config(format!("node certificate: {e}")))?;
    replace_pair(&config.cert, &config.key, &issued.cert_pem, &issued.key_pem)?;
    Ok((node, issued))
}

/// Replaces a certificate and its key. Both are written beside their
/// targets first and renamed key first: a crash between the two renames
/// leaves a mismatched pair that the node refuses at start and that a rerun
/// of the same command repairs.
fn replace_pair(cert: &Path, key: &Path, cert_pem: &str, key_pem: &str) -> Result<(), CliError> {
    let (cert_tmp, key_tmp) = (sibling(cert, ".new"), sibling(key, ".new"));
    for stale in [&cert_tmp, &key_tmp] {
        // Left by an interrupted run: never a key anyone uses.
        let _ = std::fs::remove_file(stale);
    }
    write_key(&key_tmp, key_pem.as_bytes())?;
    write_new(&cert_tmp, cert_pem.as_bytes())?;
    rename(&key_tmp, key)?;
    rename(&cert_tmp, cert)
}

/// Replaces an owner-only file through a temporary sibling and a rename.
fn replace_private(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    let tmp = sibling(path, ".new");
    // Left by an interrupted run: never a file anyone uses.
    let _ = std::fs::remove_file(&tmp);
    write_key(&tmp, contents)?;
    rename(&tmp, path)
}

/// Removes a generated password a renewal with the holder's own password
/// made wrong: left behind, it would be tried on the new bundle and fail.
fn remove_stale(path: &Path) -> Result<(), CliError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CliError::config(format!(
            "cannot remove the stale {}: {e}",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Replaces a public file through a temporary sibling and a rename.
fn replace_file(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    let tmp = sibling(path, ".new");
    let _ = std::fs::remove_file(&tmp);
    write_new(&tmp, contents)?;
    rename(&tmp, path)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn rename(from: &Path, to: &Path) -> Result<(), CliError> {
    std::fs::rename(from, to).map_err(|e| {
        CliError::config(format!(
            "cannot move {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })
}

/// What `pki rotate-signing-key` did.
#[derive(Debug, Serialize)]
pub struct RotateReport {
    pub jurisdiction: String,
    pub old_key_id: String,
    pub new_key_id: String,
    pub retired_at_unix_ms: i64,
    pub compromised: bool,
    pub retired_keys: usize,
    pub retired_file: PathBuf,
    pub dir: PathBuf,
}

impl RotateReport {
    fn render(&self) -> String {
        let old = if self.compromised {
            format!(
                "Old key {} distrusted from {} (unix ms): what it signed since then no longer verifies.",
                self.old_key_id, self.retired_at_unix_ms
            )
        } else {
            format!(
                "Old key {} retired; it still verifies what it signed before now.",
                self.old_key_id
            )
        };
        format!(
            "Rotated the record-signing key of {}: new key id {}\n{old}\nRetired keys ({}) are in {}\n\n\
             Next:\n  start the node (it records the rotation in its audit trail)\n  \
             concord pki export-trust --dir {} --out {}.trust.toml\n  \
             partners: concord peer update --trust {}.trust.toml{}\n",
            self.jurisdiction,
            self.new_key_id,
            self.retired_keys,
            self.retired_file.display(),
            self.dir.display(),
            self.jurisdiction,
            self.jurisdiction,
            if self.compromised {
                " --verified-out-of-band  (after comparing the new key id with you: a leaked key can sign a handover too)"
            } else {
                ""
            }
        )
    }
}

/// Replaces the node's record-signing key. Refused while the node runs: it
/// would go on signing with the old key past its retirement.
pub fn rotate_signing_key(args: &RotateSigningKeyArgs) -> Result<RotateReport, CliError> {
    let config = NodeConfig::load(&args.dir.join(NODE_CONFIG)).map_err(CliError::config)?;
    let now = crate::duration::now_unix_ms();
    let retired_at = match &args.compromised_since {
        None => now,
        Some(text) => {
            let at = crate::duration::parse_since(text, now)
                .map_err(|e| CliError::invalid_argument(format!("--compromised-since: {e}")))?;
            if at > now {
                return Err(CliError::invalid_argument(
                    "--compromised-since: the time is in the future",
                ));
            }
            at
        }
    };
    refuse_while_running(&config, "rotating its signing key")?;
    let rotation = signing_keys::rotate(
        &config.signing_key,
        &config.retired_signing_keys,
        config.jurisdiction.as_str(),
        retired_at,
    )
    .map_err(CliError::config)?;
    Ok(RotateReport {
        jurisdiction: config.jurisdiction.to_string(),
        old_key_id: rotation.old_key_id,
        new_key_id: rotation.new_key_id,
        retired_at_unix_ms: rotation.retired_at_unix_ms,
        compromised: args.compromised_since.is_some(),
        retired_keys: rotation.retired_keys,
        retired_file: config.retired_signing_keys,
        dir: args.dir.clone(),
    })
}

/// What `pki export-trust` wrote.
#[derive(Debug, Serialize)]
pub struct ExportReport {
    pub jurisdiction: String,
    pub endpoint: String,
    pub out: PathBuf,
    pub signing_key_id: String,
}

impl ExportReport {
    fn render(&self) -> String {
        format!(
            "Wrote the trust bundle of {} ({}) to {}\nSigning key id: {}\n\
             Partners should compare this key id with you out of band before `concord peer add`.\n",
            self.jurisdiction,
            self.endpoint,
            self.out.display(),
            self.signing_key_id
        )
    }
}

/// The trust bundle of the node configured in `dir`.
pub fn trust_bundle(dir: &Path) -> Result<TrustBundle, CliError> {
    let config = NodeConfig::load(&dir.join(NODE_CONFIG)).map_err(CliError::config)?;
    let signer = signing_keys::load(
        &config.signing_key,
        &config.retired_signing_keys,
        config.jurisdiction.as_str(),
    )
    .map_err(CliError::config)?;
    let bundle = TrustBundle::of_node(
        &config.jurisdiction,
        &config.advertise,
        &config.ca_cert,
        &signer,
    )
    .map_err(|e| CliError::config(format!("cannot read {}: {e}", config.ca_cert.display())))?;
    bundle.validate().map_err(CliError::config)?;
    Ok(bundle)
}

pub fn export_trust(args: &ExportTrustArgs) -> Result<ExportReport, CliError> {
    let bundle = trust_bundle(&args.dir)?;
    let text = bundle.to_toml().map_err(CliError::config)?;
    std::fs::write(&args.out, text)
        .map_err(|e| CliError::config(format!("cannot write {}: {e}", args.out.display())))?;
    Ok(ExportReport {
        jurisdiction: bundle.jurisdiction.to_string(),
        endpoint: bundle.endpoint.clone(),
        out: args.out.clone(),
        signing_key_id: bundle.signing_key_id(),
    })
}

fn load_ca(dir: &Path) -> Result<CertificateAuthority, CliError> {
    let cert_path = dir.join(CA_CERT);
    let cert = std::fs::read_to_string(&cert_path)
        .map_err(|e| CliError::config(format!("cannot read {}: {e}", cert_path.display())))?;
    let key = keyfile::read_private(&dir.join(CA_KEY)).map_err(key_error)?;
    let key = String::from_utf8(key)
        .map_err(|_| CliError::config(format!("{}: not PEM text", dir.join(CA_KEY).display())))?;
    CertificateAuthority::from_pem(&cert, &key)
        .map_err(|e| CliError::config(format!("CA in {}: {e}", dir.display())))
}

fn key_error(e: KeyFileError) -> CliError {
    match e {
        KeyFileError::Exists { .. } => CliError::already_exists(e),
        _ => CliError::config(e),
    }
}

fn write_key(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    keyfile::write_private(path, contents).map_err(key_error)
}

/// Writes a new public file; refuses to overwrite.
fn write_new(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    let fail = |e: std::io::Error| {
        let kind = match e.kind() {
            std::io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            _ => ErrorKind::Config,
        };
        CliError::new(kind, format!("cannot write {}: {e}", path.display()))
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(fail)?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(fail)
}

/// `path` relative to `dir` when it lies inside it, else unchanged.
fn relative_to(path: &Path, dir: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    canonical
        .strip_prefix(dir)
        .map(Path::to_owned)
        .unwrap_or(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init_args(dir: &Path) -> InitArgs {
        InitArgs {
            jurisdiction: "DE".into(),
            dir: dir.to_owned(),
            listen: "127.0.0.1:7401".into(),
            advertise: None,
            metrics_listen: "127.0.0.1:0".into(),
            web_listen: None,
            node_name: "node".into(),
            admin_name: "admin".into(),
            days: 30,
        }
    }

    #[test]
    fn init_issue_and_export_make_a_usable_jurisdiction() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("de");
        let report = init(&init_args(&dir)).unwrap();
        assert_eq!(report.files.len(), 9);
        assert_eq!(report.endpoint, "127.0.0.1:7401");
        let config = NodeConfig::load(&report.node_config).unwrap();
        assert_eq!(config.jurisdiction.as_str(), "DE");
        let profile = crate::profile::Profile::load(&report.admin_profile).unwrap();
        assert_eq!(profile.key, report.dir.join(ADMIN_KEY));

        let again = init(&init_args(&dir)).unwrap_err();
        assert_eq!(again.kind, ErrorKind::AlreadyExists);

        let issued = issue(&IssueArgs {
            dir: dir.clone(),
            role: "officer".into(),
            name: "olga".into(),
            days: 5,
            replace: false,
            p12_password_file: None,
        })
        .unwrap();
        assert_eq!(issued.identity, "concord://DE/officer/olga");
        let p = crate::profile::Profile::load(&issued.profile).unwrap();
        assert_eq!(p.ca_cert, report.dir.join(CA_CERT));
        let node_role = issue(&IssueArgs {
            dir: dir.clone(),
            role: "node".into(),
            name: "n2".into(),
            days: 5,
            replace: false,
            p12_password_file: None,
        })
        .unwrap_err();
        assert_eq!(node_role.kind, ErrorKind::InvalidArgument);

        let out = tmp.path().join("de.trust.toml");
        let exported = export_trust(&ExportTrustArgs {
            dir: dir.clone(),
            out: out.clone(),
        })
        .unwrap();
        let bundle = TrustBundle::from_toml(&std::fs::read_to_string(out).unwrap()).unwrap();
        assert_eq!(bundle.signing_key_id(), exported.signing_key_id);
        assert_eq!(exported.signing_key_id, report.signing_key_id);
    }

    #[test]
    fn init_refuses_bad_settings_before_writing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("x");
        let mut args = init_args(&dir);
        args.listen = "nowhere".into();
        args.metrics_listen = "0.0.0.0:9000".into();
        let err = init(&args).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(err.message.contains("loopback"), "{}", err.message);
        assert!(!dir.exists());
        let mut args = init_args(&dir);
        args.listen = "0.0.0.0:7401".into();
        assert_eq!(init(&args).unwrap_err().kind, ErrorKind::InvalidArgument);
        args.advertise = Some("node.de.example:7401".into());
        init(&args).unwrap();
        let mut args = init_args(&tmp.path().join("y"));
        args.jurisdiction = "de".into();
        assert_eq!(init(&args).unwrap_err().kind, ErrorKind::InvalidArgument);
    }
}
