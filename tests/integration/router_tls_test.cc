// The TLS 1.2 side of duet-router's listener (minVersion "1.2", an RSA certificate): only
// ECDHE key exchange with AEAD ciphers is taken; RSA key exchange, CBC and TLS 1.1 are
// refused by the server (its alert, not a client that would not offer them).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <functional>

#include "tls_router_test.h"

namespace duet::router {
namespace {

using duet::test::completion;
using duet::test::ProxyClient;
using ::testing::HasSubstr;
namespace ssl = boost::asio::ssl;

struct Handshake {
  boost::system::error_code error;
  std::string cipher;  // the suite agreed on, when it succeeded
};

// A TLS client handshake with the router; `configure` sets the client's versions and suites.
Handshake handshake(uint16_t port, const std::function<void(SSL_CTX*)>& configure) {
  ssl::context context(ssl::context::tls_client);
  configure(context.native_handle());
  boost::asio::io_context io;
  ssl::stream<boost::asio::ip::tcp::socket> stream(io, context);
  stream.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
  timeval timeout{10, 0};  // a router that never answers fails the test instead of hanging it
  ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
               sizeof timeout);
  Handshake result;
  stream.handshake(ssl::stream_base::client, result.error);
  if (!result.error) result.cipher = SSL_get_cipher_name(stream.native_handle());
  return result;
}

// TLS 1.2 only, offering `ciphers` only.
Handshake tls12(uint16_t port, const std::string& ciphers) {
  return handshake(port, [&](SSL_CTX* context) {
    SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION);
    ASSERT_EQ(SSL_CTX_set_cipher_list(context, ciphers.c_str()), 1) << ciphers;
  });
}

using RouterTls = TlsRouterTest;

TEST_F(RouterTls, Tls12TakesEcdheWithAeadCiphers) {
  for (const char* cipher : {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                             "ECDHE-RSA-CHACHA20-POLY1305"}) {
    auto result = tls12(port(), cipher);
    EXPECT_FALSE(result.error) << cipher << ": " << result.error.message();
    EXPECT_EQ(result.cipher, cipher);
  }
  // The server's order wins over the client's.
  auto result = tls12(port(), "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(result.cipher, "ECDHE-RSA-AES128-GCM-SHA256") << result.error.message();
}

TEST_F(RouterTls, Tls12RefusesRsaKeyExchangeAndCbc) {
  for (const char* cipher :
       {"AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"}) {
    auto result = tls12(port(), cipher);
    ASSERT_TRUE(result.error) << cipher << " was taken";
    EXPECT_THAT(result.error.message(), HasSubstr("sslv3 alert handshake failure")) << cipher;
  }
}

TEST_F(RouterTls, Tls11IsRefused) {
  auto result = handshake(port(), [](SSL_CTX* context) {
    SSL_CTX_set_min_proto_version(context, TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(context, TLS1_1_VERSION);
    // OpenSSL 3 offers TLS 1.1 only at security level 0.
    ASSERT_EQ(SSL_CTX_set_cipher_list(context, "DEFAULT:@SECLEVEL=0"), 1);
  });
  ASSERT_TRUE(result.error) << "TLS 1.1 was taken with " << result.cipher;
  EXPECT_THAT(result.error.message(), HasSubstr("tlsv1 alert protocol version"));
}

TEST_F(RouterTls, Tls13ServesWithOpenSslDefaultSuites) {
  ProxyClient client(router_->tls(), cert());
  auto response = client.post("/v1/completions", completion("hello"));
  EXPECT_EQ(response.result_int(), 200) << response.body();
  auto result = handshake(
      port(), [](SSL_CTX* context) { SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION); });
  EXPECT_FALSE(result.error) << result.error.message();
  EXPECT_EQ(result.cipher, "TLS_AES_256_GCM_SHA384");
}

}  // namespace
}  // namespace duet::router
