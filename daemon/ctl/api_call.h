#pragma once
// duetctl's calls to duetd's node API, and reading manifest files the way kubectl does.

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "daemon/ctl/commands.h"
#include "duet/common/http_client.h"

namespace duet::ctl {

// An error to print as `error: ...` (exit 1): the API's message, or why it was unreachable.
struct ApiFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A request to ctx.server with the bearer token (if any) set.
http::ClientRequest api_request(const Context& ctx, http::bhttp::verb method,
                                const std::string& target, std::string body = {},
                                std::string_view content_type = {});
// Sends a request to duetd; returns the JSON body, or throws ApiFailure with the API's error.
nlohmann::json call(const Context& ctx, http::bhttp::verb method, const std::string& target,
                    std::string body = {}, std::string_view content_type = {});

// The message of an error answer: the OpenAI-shaped error's message, else the body.
std::string api_error_message(int status, const std::string& body);

// FILE, DIR (its *.yaml, *.yml and *.json, sorted) or - (stdin), as (source name, text).
std::vector<std::pair<std::string, std::string>> manifest_inputs(const std::string& path);

}  // namespace duet::ctl
