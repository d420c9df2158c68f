#pragma once
// OpenSSL 3 contexts, made one way for every part: the server side of a TLS listener (the
// router's listeners, duetd's TCP node API) and the client side of an https connection
// (the router's node API sources, duetctl).

#include <memory>
#include <stdexcept>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace duet::tls {

// A file that could not be used; the message names it and says why.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServerFiles {
  std::string cert;  // PEM chain, leaf first
  std::string key;
  std::string min_version = "1.3";  // "1.2" or "1.3"
  // Client certificates: when set, a client must present one signed by these CAs (mutual
  // TLS); when empty, none is asked for.
  std::string client_ca;
};

struct ClientFiles {
  // The CAs the server's certificate must chain to, and nothing else (pinning). Empty: the
  // system's trust store.
  std::string ca;
  // A client certificate and key for servers that ask for one; both or neither.
  std::string cert;
  std::string key;
};

// ECDHE+AEAD suites only for TLS 1.2, no renegotiation, ALPN http/1.1. Throws TlsError.
std::shared_ptr<boost::asio::ssl::context> make_server_context(const ServerFiles& files);
// TLS 1.2 at least, the server's certificate verified (its name is checked per connection:
// verify_server_name). Throws TlsError.
std::shared_ptr<boost::asio::ssl::context> make_client_context(const ClientFiles& files);

}  // namespace duet::tls
