//! Extra TLS roots an embedder makes every HTTP client of the host trust.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// An X.509 root certificate, as DER. The bytes are checked when the host's
/// clients are built: a certificate that is not valid X.509 makes
/// [`ServiceWorkerHostBuilder::start`](crate::ServiceWorkerHostBuilder::start)
/// fail.
#[derive(Debug, Clone)]
pub struct Certificate(CertificateDer<'static>);

/// A PEM input without a certificate in it, or a malformed one.
#[derive(Debug, thiserror::Error)]
#[error("PEM certificate: {0}")]
pub struct CertificateError(String);

impl Certificate {
    /// A DER-encoded certificate.
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertificateError> {
        Ok(Certificate(CertificateDer::from(der.to_vec())))
    }

    /// The first certificate of a PEM input.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, CertificateError> {
        CertificateDer::from_pem_slice(pem)
            .map(Certificate)
            .map_err(|e| CertificateError(e.to_string()))
    }

    /// Every certificate of a PEM input (a CA bundle).
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<Certificate>, CertificateError> {
        CertificateDer::pem_slice_iter(pem)
            .map(|c| {
                c.map(Certificate)
                    .map_err(|e| CertificateError(e.to_string()))
            })
            .collect()
    }

    /// The certificate's DER bytes.
    pub fn to_der(&self) -> Vec<u8> {
        self.0.to_vec()
    }

    /// The DER bytes, for rustls.
    pub(crate) fn der(&self) -> CertificateDer<'static> {
        self.0.clone()
    }

    /// The same certificate for a reqwest client.
    pub(crate) fn to_reqwest(&self) -> reqwest::Result<reqwest::Certificate> {
        reqwest::Certificate::from_der(self.0.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_a_certificate_is_an_error() {
        assert!(Certificate::from_pem(b"no pem here").is_err());
        assert!(Certificate::from_pem_bundle(b"").unwrap().is_empty());
    }
}
