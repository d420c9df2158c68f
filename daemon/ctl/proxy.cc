// `duetctl proxy` and `duetctl dashboard` (like `kubectl proxy`): the node API and the
// dashboard on a local port, passed on to duetd with the user's own access (the unix socket,
// or a TCP node API with its token), so that a browser needs no token. Loopback only unless
// --allow-remote; ProxyGuard refuses other hosts' names and other sites' requests.
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "daemon/ctl/api_call.h"
#include "daemon/ctl/commands.h"
#include "daemon/ctl/proxy_guard.h"
#include "daemon/ui/ui_files.h"
#include "duet/common/http_error.h"
#include "duet/common/log.h"
#include "duet/common/openai_error.h"

namespace duet::ctl {

namespace bhttp = http::bhttp;

namespace {

constexpr std::chrono::seconds kHeaderTimeout{30};

bool is_api_path(std::string_view path) {
  return path.starts_with("/apis/") || path == "/healthz" || path == "/readyz" || path == "/metrics";
}

// duetd's answer, header and body, passed on as it arrives (watch streams and `logs -f` never
// end on their own); a duetd that cannot be reached is a 502 that says so.
void forward(const Context& ctx, const std::shared_ptr<http::Exchange>& exchange) {
  const auto& in = exchange->request();
  auto request = api_request(ctx, in.method(), std::string(in.target()), in.body(),
                             in[bhttp::field::content_type]);
  struct Call {
    bool began = false;
    std::shared_ptr<http::ClientCall> upstream;
  };
  auto call = std::make_shared<Call>();
  http::StreamHandlers handlers;
  handlers.on_header = [exchange, call](const http::ClientResponseHeader& res) {
    http::ResponseHeader header(res.result(), 11);
    for (auto field : {bhttp::field::content_type, bhttp::field::www_authenticate})
      if (auto value = res[field]; !value.empty()) header.set(field, value);
    call->began = true;
    exchange->begin_stream(std::move(header));
  };
  handlers.on_data = [exchange](std::string_view data) { exchange->send(data); };
  handlers.on_end = [exchange, call, server = ctx.server](http::error_code ec) {
    call->upstream.reset();  // the call holds these handlers: no cycle left behind
    if (call->began) return exchange->finish();
    exchange->reply_error(
        502, std::string("cannot reach duetd at ").append(server.to_string()).append(": ").append(ec.message()));
  };
  call->upstream = http::ClientCall::stream(exchange->executor(), ctx.server, std::move(request),
                                            kHeaderTimeout, std::move(handlers), ctx.tls);
  exchange->on_client_gone([call] {
    if (call->upstream) call->upstream->cancel();
  });
}

void handle(const Context& ctx, const std::shared_ptr<http::Exchange>& exchange) {
  std::string_view target = exchange->request().target();
  auto path = target.substr(0, target.find('?'));
  if (ui::is_ui_path(path)) return ui::serve_ui_file(exchange, path);
  if (path == "/") return ui::serve_ui_file(exchange, "/ui");  // the redirect to /ui/
  if (is_api_path(path)) return forward(ctx, exchange);
  throw HttpError(404, "no such path: duetctl proxy serves /ui/ and /apis/");
}

http::Response refused(const http::RequestHeader& header, const std::string& why) {
  http::Response res(bhttp::status::forbidden, header.version());
  res.set(bhttp::field::content_type, "application/json");
  res.body() = openai_error_body(403, std::string("duetctl proxy refused the request: ").append(why),
                                 openai_error_type(403), "Host");
  return res;
}

}  // namespace

int proxy(const Context& ctx, const ProxyOptions& options) {
  Address listening;
  listening.host = options.address;
  listening.port = options.port;
  if (!listening.is_loopback() && !options.allow_remote)
    throw UsageError(std::string("--address ")
                         .append(options.address)
                         .append(" is beyond loopback: anyone who reaches it acts with your access "
                                 "to duetd; add --allow-remote to mean it"));
  ProxyGuard guard(listening, options.accept_hosts);
  boost::asio::io_context io;
  http::Server server(
      io, [&ctx](std::shared_ptr<http::Exchange> e) { handle(ctx, e); },
      {.server_name = "duetctl",
       .default_headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}},
       .header_check = [&guard](const http::RequestHeader& header, const std::string& remote,
                                std::string&) -> std::optional<http::Response> {
         auto why = guard.refusal(header);
         if (!why) return std::nullopt;
         Logger("proxy").warn("proxy_refused", {{"why", *why}, {"client", remote}});
         return refused(header, *why);
       }});
  try {
    server.listen(listening);
  } catch (const std::system_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  auto port = server.ports().at(0);
  std::cout << "Starting to serve on " << url_host(listening) << ":" << port << " (duetd at "
            << ctx.server.to_string() << ")\n";
  if (options.dashboard) std::cout << "Dashboard: http://" << url_host(listening) << ":" << port << "/ui/\n";
  std::cout.flush();
  boost::asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](boost::system::error_code, int) {
    server.stop();
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace duet::ctl
