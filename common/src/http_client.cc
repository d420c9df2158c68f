#include "duet/common/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <optional>

namespace duet::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct ClientCall::Impl : std::enable_shared_from_this<ClientCall::Impl> {
  Impl(asio::any_io_executor ex, Address to, ClientRequest req)
      : socket(ex), timer(ex), address(std::move(to)), request(std::move(req)) {}

  asio::generic::stream_protocol::socket socket;
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
      self->socket.close(ignored);
    });
    error_code ec;
    socket.open(address.endpoint().protocol(), ec);
    if (ec) return finish(ec);
    socket.async_connect(address.endpoint(), beast::bind_front_handler(&Impl::on_connect,
                                                                       shared_from_this()));
  }

  void on_connect(error_code ec) {
    if (ec) return finish(ec);
    bhttp::async_write(socket, request,
                       beast::bind_front_handler(&Impl::on_write, shared_from_this()));
  }

  void on_write(error_code ec, std::size_t) {
    if (ec) return finish(ec);
    if (fetch_handler) {
      whole.emplace();
      whole->body_limit(64 * 1024 * 1024);
      bhttp::async_read(socket, buffer, *whole,
                        beast::bind_front_handler(&Impl::on_whole, shared_from_this()));
      return;
    }
    piecewise.emplace();
    piecewise->body_limit(boost::none);
    bhttp::async_read_header(socket, buffer, *piecewise,
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
    bhttp::async_read_some(socket, buffer, *piecewise,
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
    socket.close(ignored);
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
                                              FetchHandler handler) {
  auto impl = std::make_shared<Impl>(ex, to, std::move(request));
  impl->fetch_handler = std::move(handler);
  impl->start(timeout);
  return std::make_shared<ClientCall>(impl);
}

std::shared_ptr<ClientCall> ClientCall::stream(asio::any_io_executor ex, const Address& to,
                                               ClientRequest request,
                                               std::chrono::milliseconds header_timeout,
                                               StreamHandlers handlers) {
  auto impl = std::make_shared<Impl>(ex, to, std::move(request));
  impl->stream_handlers = std::move(handlers);
  impl->start(header_timeout);
  return std::make_shared<ClientCall>(impl);
}

void ClientCall::cancel() {
  error_code ignored;
  impl_->socket.close(ignored);
}

ClientResponse fetch_sync(const Address& to, ClientRequest request,
                          std::chrono::milliseconds timeout) {
  asio::io_context io;
  error_code result;
  ClientResponse response;
  ClientCall::fetch(io.get_executor(), to, std::move(request), timeout,
                    [&](error_code ec, ClientResponse res) {
                      result = ec;
                      response = std::move(res);
                    });
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
