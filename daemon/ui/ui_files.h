#pragma once
// Serves the dashboard's embedded files under /ui/ (duetd's listeners and `duetctl proxy`),
// with the headers that keep a page from being framed, sniffed or fed inline script.

#include <memory>
#include <string_view>

#include "duet/common/http_server.h"

namespace duet::ui {

// Whether `path` (without the query) is the dashboard's: /ui, /ui/ and /ui/FILE.
bool is_ui_path(std::string_view path);

// Answers a GET of a dashboard path: the file, a redirect from /ui to /ui/, 404 for a
// file that is not there, 405 for another method.
void serve_ui_file(const std::shared_ptr<http::Exchange>& exchange, std::string_view path);

// Content-Security-Policy (no inline script or style, nothing from another origin, no
// framing), X-Content-Type-Options and Referrer-Policy: for the files and the API answers.
template <class Message>
void set_security_headers(Message& message) {
  message.set("Content-Security-Policy",
              "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  message.set("X-Content-Type-Options", "nosniff");
  message.set("Referrer-Policy", "no-referrer");
  message.set("X-Frame-Options", "DENY");
}

}  // namespace duet::ui
