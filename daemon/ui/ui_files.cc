#include "daemon/ui/ui_files.h"

#include "daemon/ui/embedded_file.h"
#include "duet/common/http_error.h"

namespace duet::ui {

namespace bhttp = http::bhttp;

namespace {

constexpr std::string_view kRoot = "/ui/";

std::string_view content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

const EmbeddedFile* find_file(std::string_view name) {
  for (const auto& file : embedded_files())
    if (file.name == name) return &file;
  return nullptr;
}

}  // namespace

bool is_ui_path(std::string_view path) { return path == "/ui" || path.starts_with(kRoot); }

void serve_ui_file(const std::shared_ptr<http::Exchange>& exchange, std::string_view path) {
  const auto& req = exchange->request();
  if (req.method() != bhttp::verb::get) throw HttpError(405, "the dashboard's files take GET");
  http::Response res(bhttp::status::ok, req.version());
  set_security_headers(res);
  if (path == "/ui") {
    res.result(bhttp::status::moved_permanently);
    res.set(bhttp::field::location, kRoot);
    return exchange->reply(std::move(res));
  }
  auto name = path.substr(kRoot.size());
  if (name.empty()) name = "index.html";
  const auto* file = find_file(name);
  if (!file) throw HttpError(404, "no such dashboard file");
  res.set(bhttp::field::content_type, content_type(name));
  // Revalidated each time: a newer duetd or duetctl serves newer files under the same names.
  res.set(bhttp::field::cache_control, "no-cache");
  res.body() = std::string(file->bytes);
  exchange->reply(std::move(res));
}

}  // namespace duet::ui
