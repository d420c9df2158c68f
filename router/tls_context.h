#pragma once
// The server side of a router listener's TLS: duet/common/tls.h's context for the
// listener's certificate chain, key and minimum protocol version.

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "router/config.h"

namespace duet::router {

// Reads the certificate chain and key. Throws ConfigError naming the file that failed
// (unreadable, not PEM, or a key that does not belong to the certificate).
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsConfig& tls);

}  // namespace duet::router
