//! Admin profiles: which node to call and with which certificate.
//!
//! ```toml
//! endpoint = "127.0.0.1:7401"   # host:port of the node
//! ca_cert = "ca.crt"             # CA that signed the node's certificate
//! cert = "admin.crt"             # client certificate (PEM)
//! key = "admin.key"              # client key (PEM), mode 0600
//! ```
//!
//! Relative paths are resolved against the profile file's directory, so a
//! node directory can be moved as a whole.

use std::path::{Path, PathBuf};

use concord_node::endpoint::check_endpoint;
use serde::{Deserialize, Serialize};

use crate::exit::CliError;

/// The profile file as written on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    pub endpoint: String,
    pub ca_cert: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl ProfileFile {
    /// The file text, with a header naming whom it belongs to.
    pub fn to_toml(&self, identity: &str) -> Result<String, CliError> {
        let body = toml::to_string(self)
            .map_err(|e| CliError::internal(format!("cannot encode profile: {e}")))?;
        Ok(format!(
            "# Concord admin profile for {identity}.\n\
             # Use: concord --profile <this file> status\n\
             # Paths are relative to this file's directory.\n{body}"
        ))
    }
}

/// A loaded profile with resolved paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub path: PathBuf,
    pub endpoint: String,
    pub ca_cert: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Profile {
    /// Reads and checks a profile file.
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let fail = |m: String| CliError::config(format!("profile {}: {m}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let file: ProfileFile = toml::from_str(&text).map_err(|e| fail(e.message().to_owned()))?;
        Profile::resolve(file, path).map_err(fail)
    }

    /// Checks the endpoint and resolves relative paths against the profile's
    /// directory.
    pub fn resolve(file: ProfileFile, path: &Path) -> Result<Self, String> {
        check_endpoint(&file.endpoint).map_err(|e| format!("endpoint: {e}"))?;
        let base = path.parent().unwrap_or(Path::new(""));
        Ok(Profile {
            path: path.to_owned(),
            endpoint: file.endpoint,
            ca_cert: base.join(file.ca_cert),
            cert: base.join(file.cert),
            key: base.join(file.key),
        })
    }

    /// The profile named by `--profile`/`CONCORD_PROFILE`, which RPC commands require.
    pub fn required(path: Option<&Path>) -> Result<Self, CliError> {
        match path {
            Some(path) => Profile::load(path),
            None => Err(CliError::config(
                "no profile given: pass --profile FILE or set CONCORD_PROFILE \
                 (concord pki init writes DIR/admin.profile.toml, \
                 concord pki issue writes DIR/<role>-<name>.profile.toml)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(endpoint: &str, ca: &str) -> ProfileFile {
        ProfileFile {
            endpoint: endpoint.into(),
            ca_cert: ca.into(),
            cert: "admin.crt".into(),
            key: "/keys/admin.key".into(),
        }
    }

    fn check(profile_path: &str, ca: &str, expected_ca: &str, expected_key: &str) {
        let p = Profile::resolve(file("127.0.0.1:7401", ca), Path::new(profile_path)).unwrap();
        assert_eq!(p.ca_cert, Path::new(expected_ca), "{profile_path}");
        assert_eq!(p.key, Path::new(expected_key), "{profile_path}");
    }

    #[test]
    fn resolves_paths_against_the_profile_directory() {
        check(
            "/etc/concord/de/admin.profile.toml",
            "ca.crt",
            "/etc/concord/de/ca.crt",
            "/keys/admin.key",
        );
        check(
            "de/admin.profile.toml",
            "ca.crt",
            "de/ca.crt",
            "/keys/admin.key",
        );
        check("admin.profile.toml", "ca.crt", "ca.crt", "/keys/admin.key");
        check(
            "/p/x.toml",
            "../shared/ca.crt",
            "/p/../shared/ca.crt",
            "/keys/admin.key",
        );
        check("/p/x.toml", "/abs/ca.crt", "/abs/ca.crt", "/keys/admin.key");
    }

    #[test]
    fn refuses_bad_endpoints_and_fields() {
        assert!(Profile::resolve(file("nowhere", "ca.crt"), Path::new("p.toml")).is_err());
        assert!(toml::from_str::<ProfileFile>(
            "endpoint = \"a:1\"\nca_cert = \"c\"\ncert = \"d\"\nkey = \"k\"\nextra = 1\n"
        )
        .is_err());
        let err = Profile::required(None).unwrap_err();
        assert_eq!(err.kind, crate::exit::ErrorKind::Config);
    }

    #[test]
    fn written_profiles_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.profile.toml");
        let f = file("node.de.example:7401", "ca.crt");
        std::fs::write(&path, f.to_toml("concord://DE/admin/admin").unwrap()).unwrap();
        let p = Profile::load(&path).unwrap();
        assert_eq!(p.endpoint, "node.de.example:7401");
        assert_eq!(p.cert, dir.path().join("admin.crt"));
        let missing = Profile::load(&dir.path().join("none.toml")).unwrap_err();
        assert!(
            missing.message.contains("cannot read"),
            "{}",
            missing.message
        );
    }
}
