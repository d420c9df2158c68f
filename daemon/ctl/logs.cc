// `duetctl logs REPLICA [-f] [--tail N]`: a replica's output from duetd's log file; with -f,
// what it writes after, until duetd ends the stream or the user presses Ctrl-C.
#include <boost/asio/io_context.hpp>
#include <iostream>

#include "daemon/ctl/api_call.h"
#include "daemon/ctl/commands.h"

namespace duet::ctl {

namespace bhttp = http::bhttp;

int logs(const Context& ctx, const std::string& replica, bool follow, const std::string& tail) {
  if (replica.empty()) throw UsageError("logs needs a replica name");
  std::vector<std::pair<std::string, std::string>> query = {{"follow", follow ? "true" : "false"}};
  if (!tail.empty()) query.emplace_back("tailLines", tail);
  auto target = api_target({"engines", replica, "logs"}, query);
  boost::asio::io_context io;
  int status = 0;
  std::string error_body;
  http::StreamHandlers handlers;
  handlers.on_header = [&](const http::ClientResponseHeader& h) { status = h.result_int(); };
  handlers.on_data = [&](std::string_view data) {
    if (status >= 400) return void(error_body.append(data));
    std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
    std::cout.flush();
  };
  http::error_code end;
  handlers.on_end = [&](http::error_code ec) { end = ec; };
  http::ClientCall::stream(io.get_executor(), ctx.server, api_request(ctx, bhttp::verb::get, target),
                           std::chrono::seconds(30), std::move(handlers), ctx.tls);
  io.run();
  if (status == 0) {
    std::cerr << "error: cannot reach duetd at " << ctx.server.to_string() << ": " << end.message() << "\n";
    return 1;
  }
  if (status >= 400) {
    std::cerr << "error: " << api_error_message(status, error_body) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace duet::ctl
