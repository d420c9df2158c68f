#pragma once
// The server side of a TLS listener: an OpenSSL 3 context with the listener's certificate
// chain and key, the minimum protocol version, ECDHE+AEAD suites only for TLS 1.2, no
// renegotiation, and ALPN that speaks only http/1.1.

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "router/config.h"

namespace duet::router {

// Reads the certificate chain and key. Throws ConfigError naming the file that failed
// (unreadable, not PEM, or a key that does not belong to the certificate).
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsConfig& tls);

}  // namespace duet::router
