#include "support/cdp_browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "duet/base64url.h"
#include "support/child_process.h"

namespace duet::test {

using nlohmann::json;

namespace {

constexpr std::chrono::seconds kCommandTimeout{30};

// CDP sends standard base64 (+ / and = padding); duet's decoder reads the URL-safe form.
std::string base64_decode(std::string text) {
  std::erase(text, '=');
  for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  auto bytes = base64url_decode(text);
  if (!bytes) throw std::runtime_error("chromium sent a screenshot that is not base64");
  return *bytes;
}

// A descriptor at 10 or above, so that placing two of them at 3 and 4 cannot clobber either.
int high_fd(int fd) { return fcntl(fd, F_DUPFD, 10); }

}  // namespace

CdpBrowser::CdpBrowser(const std::string& url, int width, int height) {
  if (access(kChromium, X_OK) != 0)
    throw std::runtime_error(std::string("the browser test needs ") + kChromium +
                             ": apt-get install chromium (tools/install-deps.sh does)");
  int commands[2], events[2];
  if (pipe2(commands, O_CLOEXEC) != 0 || pipe2(events, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2 failed");
  auto log = (profile_.path() / "chromium.log").string();
  auto profile = "--user-data-dir=" + (profile_.path() / "profile").string();
  auto size = "--window-size=" + std::to_string(width) + "," + std::to_string(height);
  pid_ = fork();
  if (pid_ == 0) {
    setsid();
    int in = high_fd(commands[0]), out = high_fd(events[1]);
    dup2(in, 3);
    dup2(out, 4);
    int sink = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(sink, 1);
    dup2(sink, 2);
    // --no-sandbox: tests run as root, where Chromium's sandbox refuses to start.
    execl(kChromium, kChromium, "--headless", "--no-sandbox", "--disable-gpu",
          "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
          "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
          "--disable-dev-shm-usage", profile.c_str(), size.c_str(), "about:blank",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(commands[0]);
  close(events[1]);
  to_browser_ = commands[1];
  from_browser_ = events[0];
  auto target = command("Target.createTarget", {{"url", "about:blank"}}, false);
  auto attached = command("Target.attachToTarget",
                          {{"targetId", target["targetId"]}, {"flatten", true}}, false);
  session_ = attached["sessionId"];
  command("Emulation.setDeviceMetricsOverride",
          {{"width", width}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", false}});
  command("Page.enable", json::object());
  command("Page.navigate", {{"url", url}});
}

CdpBrowser::~CdpBrowser() {
  if (to_browser_ >= 0) close(to_browser_);
  if (from_browser_ >= 0) close(from_browser_);
  if (pid_ > 0) {
    kill_session(pid_);
    waitpid(pid_, nullptr, 0);
  }
}

std::string CdpBrowser::read_message(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto end = buffered_.find('\0'); end != std::string::npos) {
      auto message = buffered_.substr(0, end);
      buffered_.erase(0, end + 1);
      return message;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("chromium did not answer in time");
    pollfd p{from_browser_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[65536];
    auto n = read(from_browser_, chunk, sizeof chunk);
    if (n <= 0) throw std::runtime_error("chromium closed its DevTools pipe (crashed or did not start)");
    buffered_.append(chunk, static_cast<std::size_t>(n));
  }
}

json CdpBrowser::command(const std::string& method, json params, bool in_page) {
  int id = next_id_++;
  json message = {{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (in_page) message["sessionId"] = session_;
  auto text = message.dump();
  text.push_back('\0');
  for (std::size_t sent = 0; sent < text.size();) {
    auto n = write(to_browser_, text.data() + sent, text.size() - sent);
    if (n <= 0) throw std::runtime_error("cannot write to chromium's DevTools pipe");
    sent += static_cast<std::size_t>(n);
  }
  for (;;) {  // events in between are not needed
    auto answer = json::parse(read_message(kCommandTimeout), nullptr, false);
    if (!answer.is_object() || answer.value("id", 0) != id) continue;
    if (answer.contains("error")) throw std::runtime_error(method + ": " + answer["error"].dump());
    return answer["result"];
  }
}

json CdpBrowser::eval(const std::string& expression) {
  auto result = command("Runtime.evaluate",
                        {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
  if (result.contains("exceptionDetails"))
    throw std::runtime_error("in the page: " + result["exceptionDetails"].dump());
  return result["result"].value("value", json());
}

bool CdpBrowser::wait_until(const std::string& expression, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    try {
      if (eval("!!(" + expression + ")") == true) return true;
    } catch (const std::runtime_error&) {
      // a page being replaced (navigation) has no context to evaluate in for a moment
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the poll's period, not a wait for an event
  }
}

void CdpBrowser::screenshot(const std::string& path) {
  auto shot = command("Page.captureScreenshot", {{"format", "png"}});
  std::ofstream(path, std::ios::binary) << base64_decode(shot["data"].get<std::string>());
}

}  // namespace duet::test
