#pragma once
// Debian's headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: NUL-terminated JSON on its fds 3 and 4), for the dashboard's
// browser test: no npm, no websocket, no port. The browser runs in its own session and is
// killed, with every process it started, when this object goes away.

#include <nlohmann/json.hpp>
#include <string>

#include "support/temp_dir.h"

namespace duet::test {

inline constexpr const char* kChromium = "/usr/bin/chromium";

class CdpBrowser {
 public:
  // Starts chromium with a `width` x `height` page and opens `url` in it. Throws
  // std::runtime_error when chromium is not installed (tools/install-deps.sh installs it).
  CdpBrowser(const std::string& url, int width = 1400, int height = 900);
  ~CdpBrowser();
  CdpBrowser(const CdpBrowser&) = delete;
  CdpBrowser& operator=(const CdpBrowser&) = delete;

  // Evaluates `expression` in the page, awaiting a promise; its value. Throws with the page's
  // exception text.
  nlohmann::json eval(const std::string& expression);
  // Polls `expression` (every 50 ms) until it is true; returns whether it became so in time.
  bool wait_until(const std::string& expression, std::chrono::milliseconds timeout);
  // A PNG of the page as it is shown, written to `path`.
  void screenshot(const std::string& path);

 private:
  nlohmann::json command(const std::string& method, nlohmann::json params, bool in_page = true);
  std::string read_message(std::chrono::milliseconds timeout);

  TempDir profile_;
  int pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  int next_id_ = 1;
  std::string session_;
  std::string buffered_;
};

}  // namespace duet::test
