#include "daemon/api/api_scope.h"

#include <nlohmann/json.hpp>

namespace duet::daemon {

std::string_view scope_name(Scope scope) {
  switch (scope) {
    case Scope::read: return "duet.read";
    case Scope::report: return "duet.report";
    case Scope::write: return "duet.write";
    case Scope::admin: break;
  }
  return "duet.admin";
}

Scope required_scope(boost::beast::http::verb method, std::string_view path) {
  using boost::beast::http::verb;
  if (method == verb::get || method == verb::head) return Scope::read;
  if (method == verb::post && path == "/apis/v1/traffic") return Scope::report;
  return Scope::write;
}

namespace {

// Whether a token holding `held` may do what `needed` allows.
bool includes(Scope held, Scope needed) {
  if (held == needed || held == Scope::admin) return true;
  return held == Scope::write && (needed == Scope::read || needed == Scope::report);
}

}  // namespace

bool grants(const nlohmann::json& claims, Scope needed) {
  auto it = claims.find("scope");
  if (it == claims.end() || !it->is_string()) return false;
  std::string_view list = it->get_ref<const std::string&>();
  while (!list.empty()) {
    auto space = list.find(' ');
    auto word = list.substr(0, space);
    list = space == std::string_view::npos ? std::string_view() : list.substr(space + 1);
    for (Scope held : {Scope::read, Scope::report, Scope::write, Scope::admin})
      if (word == scope_name(held) && includes(held, needed)) return true;
  }
  return false;
}

}  // namespace duet::daemon
