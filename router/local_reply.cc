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

}  // namespace

StringResponse error_response(int status, std::string_view message, unsigned version,
                              bool keep_alive, std::string_view param) {
  return json_response(status, openai_error_body(status, message, openai_error_type(status), param),
                       version, keep_alive);
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
