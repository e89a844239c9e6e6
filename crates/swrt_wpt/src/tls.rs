//! TLS for the https origin ports: a CA generated at run start (self-signed,
//! never written to disk, gone when the run ends) and one leaf certificate
//! it signs whose subject alternative names are every WPT host name of the
//! run plus `localhost` and `127.0.0.1`. The front terminates TLS with it
//! (see [`crate::front`]); every [`swrt_runtime::ServiceWorkerHost`] of the
//! run, and the runner's own client, trust the CA.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;

/// The run's certificate authority and the server configuration that uses
/// its leaf certificate.
#[derive(Clone)]
pub struct TestCa {
    /// The CA certificate, PEM (what clients add as a root).
    pub ca_pem: String,
    /// The leaf certificate, DER.
    pub leaf_der: CertificateDer<'static>,
    /// rustls server configuration (HTTP/1.1 only, the leaf and its key).
    pub server_config: Arc<ServerConfig>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// Generates a CA and a leaf for `hosts` (DNS names or IP literals).
    pub fn generate(hosts: &[String]) -> Result<TestCa, String> {
        let err = |what: &str, e: &dyn std::fmt::Display| format!("TLS {what}: {e}");

        let ca_key = KeyPair::generate().map_err(|e| err("CA key", &e))?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| err("CA parameters", &e))?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "swrt wpt test CA (generated per run)");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(|e| err("CA certificate", &e))?;
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().map_err(|e| err("leaf key", &e))?;
        let mut leaf_params =
            CertificateParams::new(hosts.to_vec()).map_err(|e| err("leaf parameters", &e))?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, hosts.first().map_or("swrt wpt", |h| h));
        leaf_params.is_ca = IsCa::ExplicitNoCa;
        leaf_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_cert = leaf_params
            .signed_by(&leaf_key, &issuer)
            .map_err(|e| err("leaf certificate", &e))?;

        // Both ring and aws-lc-rs are compiled into rustls here, so the
        // provider is named rather than taken from the process default.
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let leaf_der = leaf_cert.der().clone();
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| err("server configuration", &e))?
            .with_no_client_auth()
            .with_single_cert(vec![leaf_der.clone(), ca_cert.der().clone()], key)
            .map_err(|e| err("server certificate", &e))?;
        // The front routes one HTTP/1.1 request per connection.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TestCa {
            ca_pem: ca_cert.pem(),
            leaf_der,
            server_config: Arc::new(config),
        })
    }

    /// The CA as a root certificate for
    /// [`swrt_runtime::ServiceWorkerHostBuilder::add_root_certificate`].
    pub fn root_certificate(&self) -> Result<swrt_runtime::Certificate, String> {
        swrt_runtime::Certificate::from_pem(self.ca_pem.as_bytes()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_ca_and_a_leaf() {
        let ca = TestCa::generate(&["web-platform.test".into(), "127.0.0.1".into()]).unwrap();
        assert!(ca.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!ca.leaf_der.is_empty());
        assert_eq!(ca.server_config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        ca.root_certificate().unwrap();
    }
}
