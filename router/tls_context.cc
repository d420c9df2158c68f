#include "router/tls_context.h"

#include "duet/common/tls.h"

namespace duet::router {

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsConfig& tls) {
  try {
    return tls::make_server_context({.cert = tls.cert, .key = tls.key, .min_version = tls.min_version, .client_ca = {}});
  } catch (const tls::TlsError& e) {
    throw ConfigError(e.what());
  }
}

}  // namespace duet::router
