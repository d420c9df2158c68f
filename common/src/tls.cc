#include "duet/common/tls.h"

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>

namespace duet::tls {

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
  if (ec) throw TlsError("tls " + what + " " + path + ": " + ec.message());
}

void load_key_pair(ssl::context& context, const std::string& cert, const std::string& key) {
  load_file("cert", cert, [&](auto& ec) { context.use_certificate_chain_file(cert, ec); });
  load_file("key", key, [&](auto& ec) { context.use_private_key_file(key, ssl::context::pem, ec); });
  if (SSL_CTX_check_private_key(context.native_handle()) != 1)
    throw TlsError("tls key " + key + ": does not belong to the certificate " + cert);
}

}  // namespace

std::shared_ptr<ssl::context> make_server_context(const ServerFiles& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                       ssl::context::single_dh_use);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, files.min_version == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION);
  // Renegotiation would let a client make the server redo handshakes at will.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1)
    throw TlsError("tls: OpenSSL does not know the TLS 1.2 cipher list");
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
  load_key_pair(*context, files.cert, files.key);
  if (!files.client_ca.empty()) {
    load_file("client CA", files.client_ca,
              [&](auto& ec) { context->load_verify_file(files.client_ca, ec); });
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

std::shared_ptr<ssl::context> make_client_context(const ClientFiles& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1)
    throw TlsError("tls: OpenSSL does not know the TLS 1.2 cipher list");
  if (files.ca.empty()) {
    boost::system::error_code ec;
    context->set_default_verify_paths(ec);
    if (ec) throw TlsError("tls: the system's trust store: " + ec.message());
  } else {
    load_file("CA", files.ca, [&](auto& ec) { context->load_verify_file(files.ca, ec); });
  }
  context->set_verify_mode(ssl::verify_peer);
  if (files.cert.empty() != files.key.empty())
    throw TlsError("tls: a client certificate needs both a cert and a key file");
  if (!files.cert.empty()) load_key_pair(*context, files.cert, files.key);
  return context;
}

}  // namespace duet::tls
