// duet-bench-streamload: keeps --streams SSE completions running through a proxy at once,
// each asking for a random number of tokens in [--min-tokens, --max-tokens] (at duet-sim's
// --tpot-ms that sets its length), and starts a new one as each ends, until SIGINT/SIGTERM.
// One line per finished stream on stdout, for the drain rig to count per scenario:
//   <unix ms> whole|cut|failed <duration ms> <detail>
// whole: 200, every token and `data: [DONE]`; cut: a 200 that ended without [DONE] (an
// error event, a reset, an early EOF); failed: no 200 (refused, reset before the header, an
// error status). Then, at the end, one summary line: `total whole=N cut=N failed=N`.
// --canary-share P sends `x-canary: true` on that share of the streams: all of them come from
// one address, which the router's stickiness would otherwise put on one side of a canary.
// SIGUSR1 pauses opening new streams (those in flight run on) and the next one resumes: for
// a node drained with nothing left to serve.
// Usage: duet-bench-streamload --to HOST:PORT [--streams 200] [--min-tokens 150]
//        [--max-tokens 300] [--path /v1/completions] [--canary-share 0]
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <random>
#include <string>

#include "duet/common/address.h"
#include "duet/common/http_client.h"

namespace {

namespace http = duet::http;

struct Options {
  duet::Address to;
  int streams = 200;
  int min_tokens = 150, max_tokens = 300;
  std::string path = "/v1/completions";
  double canary_share = 0;
};

struct Totals {
  long whole = 0, cut = 0, failed = 0;
};

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Load {
 public:
  Load(boost::asio::io_context& io, Options options) : io_(io), options_(std::move(options)) {}

  void start() {
    for (int i = 0; i < options_.streams; ++i) open();
  }
  // No new stream; the loop ends once the last one has.
  void stop() {
    stopping_ = true;
    if (in_flight_ == 0) io_.stop();
  }
  void toggle_pause() {
    paused_ = !paused_;
    for (; !paused_ && waiting_ > 0; --waiting_) open();
  }
  const Totals& totals() const { return totals_; }

 private:
  struct Stream {
    std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
    int status = 0;
    std::string tail;  // the last bytes: is [DONE] there
    std::shared_ptr<http::ClientCall> call;
  };

  void open() {
    if (stopping_) return;
    if (paused_) {
      ++waiting_;
      return;
    }
    int tokens = std::uniform_int_distribution<int>(options_.min_tokens, options_.max_tokens)(rng_);
    auto body = R"({"model": "m", "prompt": "stream )" + std::to_string(++opened_) +
                R"(", "max_tokens": )" + std::to_string(tokens) + R"(, "stream": true})";
    auto stream = std::make_shared<Stream>();
    http::StreamHandlers handlers;
    handlers.on_header = [stream](const http::ClientResponseHeader& h) { stream->status = h.result_int(); };
    handlers.on_data = [stream](std::string_view data) {
      stream->tail.append(data);
      if (stream->tail.size() > 256) stream->tail.erase(0, stream->tail.size() - 256);
    };
    handlers.on_end = [this, stream](http::error_code ec) { finished(*stream, ec); };
    auto request =
        http::make_request(http::bhttp::verb::post, options_.path, options_.to, body, "application/json");
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < options_.canary_share)
      request.set("x-canary", "true");  // no canary: the router falls back to stable
    ++in_flight_;
    stream->call = http::ClientCall::stream(io_.get_executor(), options_.to, std::move(request),
                                            std::chrono::seconds(30), std::move(handlers));
  }

  void finished(Stream& stream, http::error_code ec) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                    stream.began).count();
    const char* outcome = "whole";
    std::string detail = "-";
    if (stream.status != 200) {
      outcome = "failed";
      detail = stream.status ? "status=" + std::to_string(stream.status) : ec.message();
      ++totals_.failed;
    } else if (ec || stream.tail.find("data: [DONE]") == std::string::npos) {
      outcome = "cut";
      detail = ec ? ec.message() : "no [DONE]";
      ++totals_.cut;
    } else {
      ++totals_.whole;
    }
    for (auto& c : detail) if (c == ' ') c = '_';
    std::printf("%lld %s %lld %s\n", static_cast<long long>(unix_ms()), outcome,
                static_cast<long long>(ms), detail.c_str());
    std::fflush(stdout);
    stream.call.reset();  // the handlers hold the stream; the call holds the handlers
    --in_flight_;
    if (stopping_ && in_flight_ == 0) return io_.stop();
    open();
  }

  boost::asio::io_context& io_;
  Options options_;
  std::mt19937 rng_{42};
  long opened_ = 0;
  bool stopping_ = false;
  bool paused_ = false;
  int waiting_ = 0;  // streams to open once resumed
  int in_flight_ = 0;
  Totals totals_;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--to") o.to = duet::Address::parse(value);
    else if (flag == "--streams") o.streams = std::stoi(value);
    else if (flag == "--min-tokens") o.min_tokens = std::stoi(value);
    else if (flag == "--max-tokens") o.max_tokens = std::stoi(value);
    else if (flag == "--path") o.path = value;
    else if (flag == "--canary-share") o.canary_share = std::stod(value);
    else throw std::invalid_argument("unknown flag " + flag);
  }
  if (o.to.port == 0) throw std::invalid_argument("--to HOST:PORT is required");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "duet-bench-streamload: " << e.what() << "\n";
    return 2;
  }
  boost::asio::io_context io(1);
  Load load(io, options);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  // The first signal lets the streams in flight end (and be counted); a second one quits.
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    load.stop();
    signals.async_wait([&](boost::system::error_code again, int) {
      if (!again) io.stop();
    });
  });
  boost::asio::signal_set pause(io, SIGUSR1);
  std::function<void()> wait_pause = [&] {
    pause.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      load.toggle_pause();
      wait_pause();
    });
  };
  wait_pause();
  load.start();
  io.run();
  const auto& t = load.totals();
  std::printf("total whole=%ld cut=%ld failed=%ld\n", t.whole, t.cut, t.failed);
  return 0;
}
