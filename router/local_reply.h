#pragma once
// The router's own answers to clients: errors in the OpenAI JSON shape and GET /v1/models.
// The one place on the data plane where a failure becomes an HTTP response.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

#include "router/routing_table.h"

namespace duet::router {

using StringResponse = boost::beast::http::response<boost::beast::http::string_body>;

// `version` and `keep_alive` follow the client's request. `param` names the offending field
// or header; empty gives null.
StringResponse error_response(int status, std::string_view message, unsigned version,
                              bool keep_alive, std::string_view param = {});

// 503 with `Retry-After: 1`: the router is at one of its limits (connections, requests in
// flight, buffered bodies), which lifts as requests end.
StringResponse overloaded_response(std::string_view message, unsigned version, bool keep_alive);

// Why a request body that had to be read as JSON could not be: not UTF-8, or not JSON.
std::string malformed_body_message(std::string_view body);

// The OpenAI model list of the models the table's routes name.
StringResponse models_response(const RoutingTable& table, unsigned version, bool keep_alive);

// Whether `target` asks for the model list (`/v1/models`, query string ignored).
bool is_models_request(boost::beast::http::verb method, std::string_view target);

}  // namespace duet::router
