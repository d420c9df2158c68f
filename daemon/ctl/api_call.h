#pragma once
// duetctl's calls to duetd's node API, and reading manifest files the way kubectl does.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/ctl/commands.h"
#include "duet/common/http_client.h"

namespace duet::ctl {

// An error to print as `error: ...` (exit 1): the API's message, or why it was unreachable.
struct ApiFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A node API target: "/apis/v1/", the segments joined by '/', then `?key=value&...`. Every
// segment and value is percent-encoded: file and object names may hold any byte.
std::string api_target(std::initializer_list<std::string_view> segments,
                       const std::vector<std::pair<std::string, std::string>>& query = {});

// A request to ctx.server with the bearer token (if any) set.
http::ClientRequest api_request(const Context& ctx, http::bhttp::verb method,
                                const std::string& target, std::string body = {},
                                std::string_view content_type = {});
// Sends a request to duetd; returns the JSON body, or throws ApiFailure with the API's error.
nlohmann::json call(const Context& ctx, http::bhttp::verb method, const std::string& target,
                    std::string body = {}, std::string_view content_type = {});

// The message of an error answer: the OpenAI-shaped error's message, else the body.
std::string api_error_message(int status, const std::string& body);

// FILE, DIR (its *.yaml, *.yml and *.json, sorted) or - (stdin), as (source name, text). The
// source name is the file's name, bytes that are not UTF-8 written \xNN.
std::vector<std::pair<std::string, std::string>> manifest_inputs(const std::string& path);

}  // namespace duet::ctl
