#include "duet/common/openai_error.h"

#include <nlohmann/json.hpp>

#include "duet/common/json_text.h"

namespace duet {

std::string openai_error_body(int status, std::string_view message, std::string_view type,
                              std::string_view param) {
  nlohmann::json body = {{"error",
                          {{"message", message},
                           {"type", type},
                           {"param", param.empty() ? nlohmann::json() : nlohmann::json(param)},
                           {"code", status}}}};
  return json_text(body);
}

std::string_view openai_error_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace duet
