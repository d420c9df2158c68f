#include "router/request_log.h"

#include "duet/jwt.h"

namespace duet::router {

std::string_view RequestRecord::subject() const {
  return token ? std::string_view(token->subject) : std::string_view();
}

namespace {

double millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string_view or_dash(std::string_view v) { return v.empty() ? "-" : v; }

}  // namespace

void AccessLog::on_request_done(const RequestRecord& r) {
  bool failed = r.status >= 500 || r.status == 0;
  // Formatting the fields costs more than the rest of a request's bookkeeping.
  if (!Logger::enabled(failed ? LogLevel::warn : LogLevel::info)) return;
  auto line = {Field("conn", r.connection),
               Field("req", r.request),
               Field("method", r.method),
               Field("target", r.target),
               Field("route", or_dash(r.route)),
               Field("pool", or_dash(r.pool)),
               Field("version", or_dash(r.version)),
               Field("backend", or_dash(r.backend)),
               Field("sub", or_dash(r.subject())),
               Field("status", r.status),
               Field("bytes", r.bytes),
               Field("attempts", r.attempts),
               Field("migrations", r.migrations),
               Field("tokens", r.tokens),
               Field("decision", or_dash(r.decision)),
               Field("first_byte_ms", millis(r.first_byte)),
               Field("duration_ms", millis(r.duration)),
               Field("error", or_dash(r.error))};
  if (failed)
    logger_.warn("request", line);
  else
    logger_.info("request", line);
}

}  // namespace duet::router
