#pragma once
// A small HTTP/1.1 client over TCP, TLS (`https://` addresses) or a unix socket: whole
// responses for probes and the CLI, streamed bodies for watch streams and `logs -f`. One
// connection per call.

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "duet/common/address.h"

namespace boost::asio::ssl {
class context;
}

namespace duet::http {

namespace bhttp = boost::beast::http;
using ClientRequest = bhttp::request<bhttp::string_body>;
using ClientResponse = bhttp::response<bhttp::string_body>;
using ClientResponseHeader = bhttp::response_header<>;
using error_code = boost::system::error_code;
// For `https://` addresses: the CAs to trust and a client certificate (duet/common/tls.h's
// make_client_context). None: the system's trust store, no client certificate.
using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

struct StreamHandlers {
  std::function<void(const ClientResponseHeader&)> on_header;
  std::function<void(std::string_view)> on_data;  // each piece of the body as it arrives
  std::function<void(error_code)> on_end;         // exactly once; no error = body complete
};

class ClientCall : public std::enable_shared_from_this<ClientCall> {
 public:
  using FetchHandler = std::function<void(error_code, ClientResponse)>;

  // Sends `request` and delivers the whole response, or an error (timed_out after `timeout`).
  static std::shared_ptr<ClientCall> fetch(boost::asio::any_io_executor ex, const Address& to,
                                           ClientRequest request,
                                           std::chrono::milliseconds timeout,
                                           FetchHandler handler, TlsContext tls = nullptr);
  // Sends `request` and delivers the body piece by piece. `header_timeout` covers connect
  // and the response header; the body may then take as long as it takes.
  static std::shared_ptr<ClientCall> stream(boost::asio::any_io_executor ex, const Address& to,
                                            ClientRequest request,
                                            std::chrono::milliseconds header_timeout,
                                            StreamHandlers handlers, TlsContext tls = nullptr);
  // Closes the connection; the handler sees operation_aborted. Call on the executor.
  void cancel();

  struct Impl;
  explicit ClientCall(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<Impl> impl_;
};

// Blocking helper for command-line tools: throws std::system_error naming the address.
ClientResponse fetch_sync(const Address& to, ClientRequest request,
                          std::chrono::milliseconds timeout, TlsContext tls = nullptr);

// A request with Host and User-Agent set.
ClientRequest make_request(bhttp::verb method, std::string_view target, const Address& to,
                           std::string body = {}, std::string_view content_type = {});

}  // namespace duet::http
