#include "router/tls_context.h"

#include <openssl/ssl.h>

namespace duet::router {

namespace ssl = boost::asio::ssl;

namespace {

constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with an AEAD cipher only, as
// Mozilla's "intermediate" profile without DHE. OpenSSL's default would also take RSA key
// exchange and CBC (AES128-SHA). TLS 1.3 suites are all AEAD: OpenSSL's defaults stay.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Picks http/1.1 when the client offers it. A client that offers only h2 gets no ALPN
// answer and speaks HTTP/1.1 anyway, as with nginx without http2.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof kHttp11, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

template <class Load>
void load_file(const std::string& what, const std::string& path, Load load) {
  boost::system::error_code ec;
  load(ec);
  if (ec) throw ConfigError("tls " + what + " " + path + ": " + ec.message());
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const TlsConfig& tls) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                       ssl::context::single_dh_use);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, tls.min_version == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION);
  // Renegotiation would let a client make the server redo handshakes at will.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1)
    throw ConfigError("tls: OpenSSL does not know the TLS 1.2 cipher list");
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
  load_file("cert", tls.cert, [&](auto& ec) { context->use_certificate_chain_file(tls.cert, ec); });
  load_file("key", tls.key,
            [&](auto& ec) { context->use_private_key_file(tls.key, ssl::context::pem, ec); });
  if (SSL_CTX_check_private_key(native) != 1)
    throw ConfigError("tls key " + tls.key + ": does not belong to the certificate " + tls.cert);
  return context;
}

}  // namespace duet::router
