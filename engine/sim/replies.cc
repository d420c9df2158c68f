#include "sim/replies.h"

#include "duet/common/openai_error.h"
#include "sim/sse.h"

namespace duet::sim {

namespace bhttp = http::bhttp;

http::Response Replies::response(bhttp::status status, std::string body,
                                 std::string_view content_type) const {
  http::Response res(status, 11);
  res.set(bhttp::field::content_type, content_type);
  res.set(kReplicaHeader, replica_);
  res.body() = std::move(body);
  return res;
}

http::ResponseHeader Replies::stream_header() const {
  http::ResponseHeader header(bhttp::status::ok, 11);
  header.set(bhttp::field::content_type, kSseContentType);
  header.set(bhttp::field::cache_control, "no-cache");
  header.set(kReplicaHeader, replica_);
  return header;
}

void Replies::send(http::Exchange& exchange, bhttp::status status, std::string body,
                   std::string_view content_type) const {
  exchange.reply(response(status, std::move(body), content_type));
}

void Replies::send_error(http::Exchange& exchange, int status, std::string_view message,
                         std::string_view param) const {
  send(exchange, static_cast<bhttp::status>(status),
       openai_error_body(status, message, openai_error_type(status), param));
}

}  // namespace duet::sim
