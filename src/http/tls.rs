//! The openssl acceptor both listeners share (the users' HTTPS and the peers' mutual TLS).

/// An openssl acceptor with Mozilla's "intermediate" settings (TLS 1.2 and 1.3) serving the
/// certificate chain `cert` with its private key `key`; a file that cannot be used is an error
/// naming it, before anything listens.
pub(crate) fn acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::io::Result<openssl::ssl::SslAcceptorBuilder> {
    use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
    let bad = |what: &std::path::Path, e: openssl::error::ErrorStack| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{}: {e}", what.display()),
        )
    };
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(std::io::Error::other)?;
    acceptor
        .set_certificate_chain_file(cert)
        .map_err(|e| bad(cert, e))?;
    acceptor
        .set_private_key_file(key, SslFiletype::PEM)
        .map_err(|e| bad(key, e))?;
    acceptor.check_private_key().map_err(|e| bad(key, e))?;
    Ok(acceptor)
}
