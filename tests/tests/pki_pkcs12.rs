//! `concord pki issue` writes a PKCS#12 bundle a browser can import: the
//! person's key and certificate with the CA as chain, under a password that
//! is either generated (and kept owner-only) or the holder's own.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use concord_tests::*;
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

fn issue(de: &NodeDir, name: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "--output",
        "json",
        "pki",
        "issue",
        "--dir",
        path_str(&de.dir),
        "--role",
        "officer",
        "--name",
        name,
    ];
    args.extend_from_slice(extra);
    concord(&args)
}

fn report(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Opens `p12` with `password`; asserts it holds `DE/officer/NAME`'s key and
/// certificate as written beside it, and the CA as chain.
fn assert_bundle(de: &NodeDir, name: &str, password: &str) {
    let p12 = std::fs::read(de.dir.join(format!("officer-{name}.p12"))).unwrap();
    let store = KeyStore::from_pkcs12(&p12, password, Pkcs12ImportPolicy::Strict).unwrap();
    let (alias, chain) = store.private_key_chain().unwrap();
    assert_eq!(alias, format!("DE/officer/{name}"));
    let certs: Vec<&[u8]> = chain.certs().iter().map(|c| c.as_der()).collect();
    let leaf = CertificateDer::from_pem_file(de.dir.join(format!("officer-{name}.crt"))).unwrap();
    let ca = CertificateDer::from_pem_file(de.dir.join("ca.crt")).unwrap();
    assert_eq!(certs, [leaf.as_ref(), ca.as_ref()]);
    let key =
        PrivatePkcs8KeyDer::from_pem_file(de.dir.join(format!("officer-{name}.key"))).unwrap();
    assert_eq!(chain.key().as_der(), key.secret_pkcs8_der());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn issue_writes_a_browser_bundle_with_a_generated_or_given_password() {
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");

    let olivia = report(&issue(&de, "olivia", &[]));
    let p12 = de.dir.join("officer-olivia.p12");
    let password_file = de.dir.join("officer-olivia.p12-password");
    assert_eq!(olivia["p12"], path_str(&p12), "{olivia}");
    assert_eq!(olivia["p12_password"], path_str(&password_file), "{olivia}");
    assert_eq!(mode(&password_file), 0o600);
    assert_eq!(mode(&p12), 0o600, "the bundle holds the private key");
    let password = de.read("officer-olivia.p12-password").trim().to_owned();
    assert!(password.len() >= 26, "{password}");
    assert_bundle(&de, "olivia", &password);

    // Renewal replaces the bundle and its password with the certificate.
    let old_cert = de.read("officer-olivia.crt");
    report(&issue(&de, "olivia", &["--replace"]));
    assert_ne!(de.read("officer-olivia.crt"), old_cert);
    let renewed = de.read("officer-olivia.p12-password").trim().to_owned();
    assert_ne!(renewed, password);
    assert_bundle(&de, "olivia", &renewed);
    assert!(!de.dir.join("officer-olivia.p12.new").exists());

    // The holder's own password: no password file, and an empty one is refused
    // before anything is written.
    let given = root.path().join("password.txt");
    std::fs::write(&given, "\n").unwrap();
    let refused = issue(&de, "otto", &["--p12-password-file", path_str(&given)]);
    assert_eq!(
        refused.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!de.dir.join("officer-otto.crt").exists());
    std::fs::write(&given, "  correct horse battery staple \nignored\n").unwrap();
    let otto = report(&issue(
        &de,
        "otto",
        &["--p12-password-file", path_str(&given)],
    ));
    assert!(otto["p12_password"].is_null(), "{otto}");
    assert!(!de.dir.join("officer-otto.p12-password").exists());
    assert_bundle(&de, "otto", "correct horse battery staple");

    // Renewing olivia with her own password removes the generated one, now wrong.
    report(&issue(
        &de,
        "olivia",
        &["--replace", "--p12-password-file", path_str(&given)],
    ));
    assert!(!password_file.exists());
    assert_bundle(&de, "olivia", "correct horse battery staple");
}
