#pragma once
// What a node-API token may do (docs/node-api.md, "Access"): its `scope` claim lists scopes
// separated by spaces, as OAuth 2.0 writes them (RFC 8693 §4.2). A request needs one scope
// by its method and path; a token that lacks it gets 403 `insufficient_scope`.

#include <boost/beast/http/verb.hpp>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace duet::daemon {

enum class Scope {
  read,    // GET anything: lists, watch, logs, events, metrics
  report,  // POST /apis/v1/traffic: a router's counts for canary analysis
  write,   // apply, delete, rollout actions (and what read and report allow)
  admin,   // everything; node-wide actions to come (drain) will need it alone
};

std::string_view scope_name(Scope scope);  // "duet.read", ...

// GET and HEAD read; POST /apis/v1/traffic reports; any other method writes. `path` is
// without the query string.
Scope required_scope(boost::beast::http::verb method, std::string_view path);

// Whether a verified token's claims grant `needed`: duet.admin grants all, duet.write
// grants read and report too. No `scope` claim, or one that is not a string, grants nothing.
bool grants(const nlohmann::json& claims, Scope needed);

}  // namespace duet::daemon
