#include "router/admin_server.h"

#include <nlohmann/json.hpp>

#include "duet/common/json_text.h"

namespace duet::router {

namespace bhttp = boost::beast::http;

AdminServer::AdminServer(boost::asio::io_context& control, const AdminView& view)
    : view_(view),
      server_(
          control, [this](std::shared_ptr<duet::http::Exchange> e) { handle(e); },
          duet::http::ServerOptions{.body_limit = 64 * 1024, .server_name = "duet-router"}) {}

uint16_t AdminServer::listen(const Address& address) {
  server_.listen(address);
  return server_.ports().back();
}

uint16_t AdminServer::listen_on(int fd) {
  server_.listen_on(fd);
  return server_.ports().back();
}

int AdminServer::listening_fd() const {
  auto fds = server_.listening_fds();
  return fds.empty() ? -1 : fds.front();
}

void AdminServer::stop() { server_.stop(); }

void AdminServer::handle(const std::shared_ptr<duet::http::Exchange>& exchange) const {
  const auto& request = exchange->request();
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head)
    return exchange->reply_error(405, "the admin API is read-only");
  if (path == "/healthz") return exchange->reply(bhttp::status::ok, "ok\n", "text/plain");
  if (path == "/readyz") {
    bool ready = view_.ready();
    nlohmann::json body = {{"ready", ready}, {"sources", view_.sources()}};
    return exchange->reply(ready ? bhttp::status::ok : bhttp::status::service_unavailable,
                           json_text(body) + "\n");
  }
  if (path == "/metrics")
    return exchange->reply(bhttp::status::ok, view_.metrics(), "text/plain; version=0.0.4");
  if (path == "/config") {
    nlohmann::json body = view_.routing_table();
    body["sources"] = view_.sources();
    return exchange->reply(bhttp::status::ok, json_text(body, 2) + "\n");
  }
  exchange->reply_error(404, "no admin page " + std::string(path), "path");
}

}  // namespace duet::router
