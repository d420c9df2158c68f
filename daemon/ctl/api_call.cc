#include "daemon/ctl/api_call.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "daemon/api/percent_encoding.h"
#include "duet/common/utf8.h"

namespace duet::ctl {

using nlohmann::json;
namespace fs = std::filesystem;
namespace bhttp = http::bhttp;

namespace {
constexpr std::chrono::seconds kTimeout{30};

std::string read_all(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A file name as duetd's errors show it: bytes that are not UTF-8 (a Latin-1 name) as \xNN.
// duetd takes only UTF-8, and the name is there for people to read.
std::string readable_name(std::string_view name) {
  std::string out;
  while (!name.empty()) {
    auto n = utf8_sequence_length(name);
    if (n == 0) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<unsigned char>(name[0]));
      out += escaped;
      n = 1;
    } else {
      out += name.substr(0, n);
    }
    name.remove_prefix(n);
  }
  return out;
}
}  // namespace

std::string api_target(std::initializer_list<std::string_view> segments,
                       const std::vector<std::pair<std::string, std::string>>& query) {
  std::string target = "/apis/v1";
  for (auto segment : segments) target += "/" + daemon::percent_encode(segment);
  char separator = '?';
  for (const auto& [key, value] : query) {
    target += separator + key + "=" + daemon::percent_encode(value);
    separator = '&';
  }
  return target;
}

http::ClientRequest api_request(const Context& ctx, bhttp::verb method, const std::string& target,
                                std::string body, std::string_view content_type) {
  auto req = http::make_request(method, target, ctx.server, std::move(body), content_type);
  if (!ctx.token.empty()) req.set(bhttp::field::authorization, "Bearer " + ctx.token);
  return req;
}

json call(const Context& ctx, bhttp::verb method, const std::string& target, std::string body,
          std::string_view content_type) {
  http::ClientResponse res;
  try {
    res = http::fetch_sync(ctx.server, api_request(ctx, method, target, std::move(body), content_type),
                           kTimeout, ctx.tls);
  } catch (const std::system_error& e) {
    throw ApiFailure("cannot reach duetd at " + ctx.server.to_string() + ": " + e.code().message());
  }
  if (res.result_int() >= 400) throw ApiFailure(api_error_message(res.result_int(), res.body()));
  auto parsed = json::parse(res.body(), nullptr, false);
  if (parsed.is_discarded()) throw ApiFailure("duetd sent a body that is not JSON");
  return parsed;
}

std::string api_error_message(int status, const std::string& body) {
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object())
    return parsed["error"].value("message", body);
  return "duetd answered " + std::to_string(status) + ": " + body;
}

std::vector<std::pair<std::string, std::string>> manifest_inputs(const std::string& path) {
  if (path == "-") return {{"stdin", read_all(std::cin)}};
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::directory_iterator(path)) {
      auto ext = e.path().extension();
      if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) throw ApiFailure("cannot read " + f.string());
    out.emplace_back(readable_name(f.filename().string()), read_all(in));
  }
  return out;
}

}  // namespace duet::ctl
