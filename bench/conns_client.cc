// duet-bench-conns: holds many keep-alive connections to one proxy (or upstream) on one
// thread, for the idle keep-alive scenario and the streaming-scale scenario (bench/README.md).
//  1. Opens --idle connections, each sends one POST (--idle-path, a plain completion) and
//     reads its answer, then stays open and silent. Prints `idle N ok N failed N`.
//  2. Waits for a line on stdin (the driver reads the proxy's RSS meanwhile), then opens
//     --streams connections that each POST --stream-path (duet-bench-stamp's SSE) and send
//     the next one as each ends, so that --streams streams are always running. Once all
//     have their first event, after --warmup-ms, it records arrival − stamp of every event
//     for --seconds and prints `streams N started N chunk_p50_us X chunk_p99_us X events N
//     errors N idle_open N` (idle_open: the idle connections still open).
//  3. Keeps everything open and running until stdin ends, then resets every connection.
// Connections open at most --pace at a time (connect to answer, or to first event), so that
// no listen backlog overflows. With stdin not a pipe, it goes through the phases without
// waiting and exits after the figures.
// Usage: duet-bench-conns --to HOST:PORT [--idle N] [--streams N] [--token JWT]
//        [--idle-path P] [--stream-path P] [--seconds S] [--warmup-ms MS] [--pace N]
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "bench_util.h"
#include "held_conn.h"

namespace {

using duet::bench::HeldConn;
using duet::bench::monotonic_ns;

struct Options {
  sockaddr_in to{};
  int idle = 0;
  int streams = 0;
  std::string token;
  std::string idle_path = "/v1/completions";
  std::string stream_path = "/stamp/v1/completions";
  int seconds = 5;
  int warmup_ms = 1000;
  int pace = 64;
};

enum Role { idle_role, stream_role };

std::string post(const std::string& path, const std::string& token, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class Client : public duet::bench::ConnEvents {
 public:
  explicit Client(Options o)
      : o_(std::move(o)),
        epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
        idle_request_(post(o_.idle_path, o_.token,
                           R"({"model":"bench","prompt":"hold me","max_tokens":4})")),
        stream_request_(post(o_.stream_path, o_.token,
                             R"({"model":"bench","prompt":"stream me","stream":true})")) {}

  int run() {
    epoll_event in{EPOLLIN, {.ptr = nullptr}};  // stdin: the driver's go and end
    controlled_ = epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, STDIN_FILENO, &in) == 0;
    open_more();
    std::vector<epoll_event> ready(256);
    while (!done_) {
      int n = epoll_wait(epoll_fd_, ready.data(), static_cast<int>(ready.size()), 50);
      for (int i = 0; i < n; ++i) {
        if (ready[i].data.ptr == nullptr) {
          on_stdin();
          continue;
        }
        auto* conn = static_cast<HeldConn*>(ready[i].data.ptr);
        if (conns_.count(conn) == 0) continue;  // destroyed earlier in this batch
        conn->on_ready(ready[i].events);
        if (conn->closed()) destroy(conn);
      }
      advance(monotonic_ns());
    }
    return 0;
  }

  // duet::bench::ConnEvents
  void on_payload(HeldConn& conn, std::string_view payload, int64_t now) override {
    if (conn.payloads_in_response == 1 && conn.responses == 0) {
      ++streams_started_;
      --opening_;
    }
    int64_t stamp = duet::bench::event_stamp_ns(payload);
    if (stamp >= 0 && measure_from_ > 0 && now >= measure_from_ && now < measure_until_)
      chunk_us_.push_back(static_cast<double>(now - stamp) / 1000);
  }
  void on_response(HeldConn& conn, unsigned status) override {
    if (conn.role() == idle_role) {
      (status == 200 ? idle_ok_ : idle_failed_)++;
      --opening_;
      return;
    }
    if (conn.responses == 1 && conn.payloads_in_response == 0) {  // refused: never started
      --opening_;
      ++streams_failed_;
      return;
    }
    if (status != 200 || conn.payloads_in_response == 0) ++stream_errors_;
    conn.send(stream_request_);  // the next stream on the same connection
  }
  void on_closed(HeldConn& conn) override {
    bool opening = conn.responses == 0 &&
                   (conn.role() == idle_role || conn.payloads_in_response == 0);
    if (!opening) {
      if (conn.role() == stream_role) ++stream_errors_;
      return;
    }
    --opening_;
    (conn.role() == idle_role ? idle_failed_ : streams_failed_)++;
  }

 private:
  void open(Role role) {
    auto conn = std::make_unique<HeldConn>(epoll_fd_, o_.to,
                                           role == idle_role ? idle_request_ : stream_request_,
                                           *this, role);
    ++opening_;
    ++(role == idle_role ? idle_opened_ : streams_opened_);
    if (conn->closed()) {
      --opening_;
      ++(role == idle_role ? idle_failed_ : streams_failed_);
      return;
    }
    conns_.insert(conn.get());
    owned_.push_back(std::move(conn));
  }
  void destroy(HeldConn* conn) {
    conns_.erase(conn);
    std::erase_if(owned_, [conn](const auto& owned) { return owned.get() == conn; });
  }

  void open_more() {
    while (opening_ < o_.pace && idle_opened_ < o_.idle) open(idle_role);
    if (!streaming_) return;
    while (opening_ < o_.pace && streams_opened_ < o_.streams) open(stream_role);
  }

  // Moves through the phases as their conditions are met.
  void advance(int64_t now) {
    open_more();
    if (!idle_reported_ && idle_ok_ + idle_failed_ == o_.idle) {
      idle_reported_ = true;
      std::printf("idle %d ok %d failed %d\n", o_.idle, idle_ok_, idle_failed_);
      std::fflush(stdout);
      if (!controlled_) go();
    }
    if (streaming_ && measure_from_ == 0 && streams_started_ + streams_failed_ == o_.streams) {
      measure_from_ = now + int64_t{o_.warmup_ms} * 1'000'000;
      measure_until_ = measure_from_ + int64_t{o_.seconds} * 1'000'000'000;
    }
    if (measure_until_ > 0 && now >= measure_until_ && !streams_reported_) report();
  }

  void go() {
    streaming_ = true;
    if (o_.streams == 0) {
      streams_reported_ = true;  // nothing to measure: hold until stdin ends
      done_ = !controlled_;
    }
  }

  void on_stdin() {
    char line[256];
    auto n = read(STDIN_FILENO, line, sizeof line);
    if (n <= 0) {
      done_ = true;  // the driver is done: reset every connection
    } else if (idle_reported_ && !streaming_) {
      go();
    }
  }

  void report() {
    streams_reported_ = true;
    long idle_open = 0;
    for (const auto& conn : owned_) idle_open += conn->role() == idle_role;
    std::printf(
        "streams %d started %d chunk_p50_us %.1f chunk_p99_us %.1f events %zu errors %d "
        "idle_open %ld\n",
        o_.streams, streams_started_, duet::bench::percentile(chunk_us_, 0.5),
        duet::bench::percentile(chunk_us_, 0.99), chunk_us_.size(),
        stream_errors_ + streams_failed_, idle_open);
    std::fflush(stdout);
    if (!controlled_) done_ = true;
  }

  Options o_;
  int epoll_fd_;
  std::string idle_request_, stream_request_;
  std::vector<std::unique_ptr<HeldConn>> owned_;
  std::unordered_set<HeldConn*> conns_;
  bool controlled_ = false, streaming_ = false, done_ = false;
  bool idle_reported_ = false, streams_reported_ = false;
  int opening_ = 0;
  int idle_opened_ = 0, idle_ok_ = 0, idle_failed_ = 0;
  int streams_opened_ = 0, streams_started_ = 0, streams_failed_ = 0, stream_errors_ = 0;
  int64_t measure_from_ = 0, measure_until_ = 0;
  std::vector<double> chunk_us_;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--to") {
      o.to.sin_family = AF_INET;
      o.to.sin_port = htons(static_cast<uint16_t>(std::stoi(value.substr(value.rfind(':') + 1))));
      if (inet_pton(AF_INET, value.substr(0, value.rfind(':')).c_str(), &o.to.sin_addr) != 1)
        throw std::invalid_argument("--to wants IPV4:PORT");
    } else if (flag == "--idle") {
      o.idle = std::stoi(value);
    } else if (flag == "--streams") {
      o.streams = std::stoi(value);
    } else if (flag == "--token") {
      o.token = value;
    } else if (flag == "--idle-path") {
      o.idle_path = value;
    } else if (flag == "--stream-path") {
      o.stream_path = value;
    } else if (flag == "--seconds") {
      o.seconds = std::stoi(value);
    } else if (flag == "--warmup-ms") {
      o.warmup_ms = std::stoi(value);
    } else if (flag == "--pace") {
      o.pace = std::stoi(value);
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  if (o.to.sin_port == 0) throw std::invalid_argument("--to HOST:PORT is required");
  return o;
}

// Ten thousand connections need more descriptors than the usual soft limit of 1,024.
void raise_fd_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) try {
  raise_fd_limit();
  return Client(parse(argc, argv)).run();
} catch (const std::exception& e) {
  std::cerr << "duet-bench-conns: " << e.what() << "\n";
  return 1;
}
