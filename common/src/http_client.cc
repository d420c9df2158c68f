#include "duet/common/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <optional>

#include "duet/common/tls.h"
#include "maybe_tls_stream.h"

namespace duet::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct ClientCall::Impl : std::enable_shared_from_this<ClientCall::Impl> {
  Impl(asio::any_io_executor ex, Address to, ClientRequest req, TlsContext tls)
      : tls_context(std::move(tls)),
        stream(MaybeTlsStream::Socket(ex)),
        timer(ex),
        address(std::move(to)),
        request(std::move(req)) {}

  TlsContext tls_context;  // before stream: outlives it
  MaybeTlsStream stream;
  asio::steady_timer timer;
  Address address;
  ClientRequest request;
  beast::flat_buffer buffer;
  bool timed_out = false;
  bool finished = false;

  // fetch mode
  FetchHandler fetch_handler;
  std::optional<bhttp::response_parser<bhttp::string_body>> whole;
  // stream mode
  StreamHandlers stream_handlers;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> piecewise;
  char chunk[16 * 1024];

  void start(std::chrono::milliseconds timeout) {
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this()](error_code ec) {
      if (ec) return;
      self->timed_out = true;
      error_code ignored;
      self->stream.socket().close(ignored);
    });
    error_code ec;
    if (address.tls) use_tls(ec);
    if (!ec) stream.socket().open(address.endpoint().protocol(), ec);
    if (ec) return finish(ec);
    stream.socket().async_connect(address.endpoint(),
                                  beast::bind_front_handler(&Impl::on_connect, shared_from_this()));
  }

  // The server's certificate must chain to the context's CAs and name the host (or IP) the
  // address names; the host name also goes out as SNI.
  void use_tls(error_code& ec) {
    if (!tls_context) {
      try {
        tls_context = tls::make_client_context({});
      } catch (const tls::TlsError&) {
        ec = asio::ssl::error::make_error_code(asio::ssl::error::unspecified_system_error);
        return;
      }
    }
    stream.use_tls(*tls_context);
    stream.tls().set_verify_callback(asio::ssl::host_name_verification(address.host));
    error_code not_ip;
    asio::ip::make_address(address.host, not_ip);
    if (not_ip) SSL_set_tlsext_host_name(stream.tls().native_handle(), address.host.c_str());
  }

  void on_connect(error_code ec) {
    if (ec) return finish(ec);
    if (!stream.is_tls()) return send();
    stream.tls().async_handshake(asio::ssl::stream_base::client,
                                 [self = shared_from_this()](error_code handshake_ec) {
                                   if (handshake_ec) return self->finish(handshake_ec);
                                   self->send();
                                 });
  }

  void send() {
    bhttp::async_write(stream, request,
                       beast::bind_front_handler(&Impl::on_write, shared_from_this()));
  }

  void on_write(error_code ec, std::size_t) {
    if (ec) return finish(ec);
    // Beast reads what the buffer has room for, at least 512 bytes: an empty buffer would take
    // a 10 KB /metrics page (the router scrapes each engine's 20 times a second) 512 bytes a
    // read.
    buffer.reserve(16 * 1024);
    if (fetch_handler) {
      whole.emplace();
      whole->body_limit(64 * 1024 * 1024);
      bhttp::async_read(stream, buffer, *whole,
                        beast::bind_front_handler(&Impl::on_whole, shared_from_this()));
      return;
    }
    piecewise.emplace();
    piecewise->body_limit(boost::none);
    bhttp::async_read_header(stream, buffer, *piecewise,
                             beast::bind_front_handler(&Impl::on_header, shared_from_this()));
  }

  void on_whole(error_code ec, std::size_t) { finish(ec); }

  void on_header(error_code ec, std::size_t) {
    if (ec) return finish(ec);
    timer.cancel();
    if (stream_handlers.on_header) stream_handlers.on_header(piecewise->get().base());
    read_piece();
  }

  void read_piece() {
    if (piecewise->is_done()) return finish({});
    piecewise->get().body().data = chunk;
    piecewise->get().body().size = sizeof chunk;
    bhttp::async_read_some(stream, buffer, *piecewise,
                           beast::bind_front_handler(&Impl::on_piece, shared_from_this()));
  }

  void on_piece(error_code ec, std::size_t) {
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) return finish(ec);
    std::size_t n = sizeof chunk - piecewise->get().body().size;
    if (n > 0 && stream_handlers.on_data) stream_handlers.on_data(std::string_view(chunk, n));
    read_piece();
  }

  void finish(error_code ec) {
    if (finished) return;
    finished = true;
    timer.cancel();
    if (timed_out) ec = asio::error::timed_out;
    error_code ignored;
    stream.socket().close(ignored);
    if (fetch_handler) {
      auto handler = std::move(fetch_handler);
      handler(ec, ec ? ClientResponse{} : whole->release());
    } else if (stream_handlers.on_end) {
      auto handler = std::move(stream_handlers.on_end);
      handler(ec);
    }
  }
};

std::shared_ptr<ClientCall> ClientCall::fetch(asio::any_io_executor ex, const Address& to,
                                              ClientRequest request,
                                              std::chrono::milliseconds timeout,
                                              FetchHandler handler, TlsContext tls) {
  auto impl = std::make_shared<Impl>(ex, to, std::move(request), std::move(tls));
  impl->fetch_handler = std::move(handler);
  impl->start(timeout);
  return std::make_shared<ClientCall>(impl);
}

std::shared_ptr<ClientCall> ClientCall::stream(asio::any_io_executor ex, const Address& to,
                                               ClientRequest request,
                                               std::chrono::milliseconds header_timeout,
                                               StreamHandlers handlers, TlsContext tls) {
  auto impl = std::make_shared<Impl>(ex, to, std::move(request), std::move(tls));
  impl->stream_handlers = std::move(handlers);
  impl->start(header_timeout);
  return std::make_shared<ClientCall>(impl);
}

void ClientCall::cancel() {
  error_code ignored;
  impl_->stream.socket().close(ignored);
}

ClientResponse fetch_sync(const Address& to, ClientRequest request,
                          std::chrono::milliseconds timeout, TlsContext tls) {
  asio::io_context io;
  error_code result;
  ClientResponse response;
  ClientCall::fetch(io.get_executor(), to, std::move(request), timeout,
                    [&](error_code ec, ClientResponse res) {
                      result = ec;
                      response = std::move(res);
                    },
                    std::move(tls));
  io.run();
  if (result) throw std::system_error(result, to.to_string());
  return response;
}

ClientRequest make_request(bhttp::verb method, std::string_view target, const Address& to,
                           std::string body, std::string_view content_type) {
  ClientRequest req(method, target, 11);
  req.set(bhttp::field::host, to.host_header());
  req.set(bhttp::field::user_agent, "duet");
  if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

}  // namespace duet::http
