#include "router/local_reply.h"

#include <nlohmann/json.hpp>

#include "duet/common/openai_error.h"

namespace duet::router {

namespace http = boost::beast::http;

namespace {

StringResponse json_response(int status, std::string body, unsigned version, bool keep_alive) {
  StringResponse res(static_cast<http::status>(status), version);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view text) {
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = (c & 0xe0) == 0xc0   ? 1
                        : (c & 0xf0) == 0xe0 ? 2
                        : (c & 0xf8) == 0xf0 ? 3
                                             : 0;
    if (extra == 0 || i + extra >= text.size()) return false;
    uint32_t cp = c & (0x7f >> (extra + 1));
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (next & 0x3f);
    }
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

std::string malformed_body_message(std::string_view body) {
  if (!valid_utf8(body)) return "request body is not valid UTF-8";
  return "request body is not valid JSON";
}

StringResponse error_response(int status, std::string_view message, unsigned version,
                              bool keep_alive, std::string_view param) {
  return json_response(status, openai_error_body(status, message, openai_error_type(status), param),
                       version, keep_alive);
}

StringResponse overloaded_response(std::string_view message, unsigned version, bool keep_alive) {
  auto response = error_response(503, message, version, keep_alive);
  response.set(http::field::retry_after, "1");
  return response;
}

StringResponse models_response(const RoutingTable& table, unsigned version, bool keep_alive) {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& model : table.models())
    data.push_back({{"id", model}, {"object", "model"}, {"created", 0}, {"owned_by", "duet"}});
  nlohmann::json body = {{"object", "list"}, {"data", std::move(data)}};
  return json_response(200, body.dump(), version, keep_alive);
}

bool is_models_request(http::verb method, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return method == http::verb::get && (path == "/v1/models" || path == "/v1/models/");
}

}  // namespace duet::router
