// duet-bench-sched: the load generator of bench/scheduling (README.md there). Sends one of
// the workloads of workload.h through duet-router (or straight to an engine) as streaming
// chat completions, open loop: each arrival is sent at its time whatever the answers before
// it. A user's next turn resends the previous answer, so a user still waiting for one hands
// the arrival to the next idle user; when every user waits, a new user joins (an overloaded
// pool has more users waiting at once, as it would in an open system).
// Measures per request the time to the first content delta (TTFT), the gaps between deltas,
// the output tokens and usage.prompt_tokens_details.cached_tokens (stream_options.include_usage).
//
// With --time-scale F the engines' clock runs F times faster than the wall clock; the
// schedule is in device seconds and every time this tool prints is device time (wall × F).
//
// Usage: duet-bench-sched --to HOST:PORT --workload NAME [workload flags] [--out FILE]
//        duet-bench-sched --workload NAME [workload flags] --plan [--pool P:N:B,...] [--kv-fill X]
// Prints one line `key value ...` (the run's summary, or the plan) on stdout.
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "duet/common/address.h"
#include "duet/common/http_client.h"
#include "scheduling/workload.h"
#include "sim/model/device_profile.h"

namespace {

namespace asio = boost::asio;
using duet::bench::percentile;
using duet::bench::sched::Workload;
using duet::bench::sched::WorkloadOptions;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  WorkloadOptions workload;
  std::string to;
  std::string path = "/v1/chat/completions";
  std::string model = "bench";
  std::string session_header = "x-session-id";
  double time_scale = 1;
  double drain = -1;  // device seconds after the last arrival; < 0: the run's duration
  std::string out;    // per-request TSV, appended
  std::string label = "-";
  std::string round = "1";
  bool plan = false;
  std::string pool;   // PROFILE:COUNT:BLOCK_SIZE,...
  double kv_fill = 0.75;
};

// One request from its arrival to its end.
struct Record {
  std::size_t index = 0;
  std::size_t user = 0;
  duet::bench::sched::Turn turn;
  bool burst = false;
  double sched_s = 0;
  Clock::time_point sent, first, last, ended;
  bool got_first = false, finished = false, sent_ok = false;
  bool cancelled = false;  // still running when the drain time ran out
  bool new_user = false;   // every user was waiting for an answer: one more joined
  int status = 0;
  std::string replica = "-";
  std::string error;
  uint64_t tokens = 0;
  int64_t prompt_tokens = -1, cached_tokens = -1;
  std::vector<double> gaps_ms;
  std::string answer;
  duet::bench::SseReader sse;
  std::shared_ptr<duet::http::ClientCall> call;
};

class Runner {
 public:
  Runner(const Options& o, Workload& w)
      : o_(o), w_(w), to_(duet::Address::parse(o.to)), arrival_timer_(io_), drain_timer_(io_),
        busy_(w.users(), false) {}

  void run() {
    records_.resize(w_.arrivals().size());
    start_ = Clock::now();
    double end_s = o_.workload.duration + (o_.drain < 0 ? o_.workload.duration : o_.drain);
    drain_timer_.expires_at(at(end_s));
    drain_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) stop_all();
    });
    next_arrival();
    io_.run();
  }

  const std::vector<Record>& records() const { return records_; }
  Clock::time_point start() const { return start_; }
  double device_s(Clock::time_point t) const {
    return std::chrono::duration<double>(t - start_).count() * o_.time_scale;
  }
  double device_ms(Clock::duration d) const { return std::chrono::duration<double, std::milli>(d).count() * o_.time_scale; }

 private:
  Clock::time_point at(double device_s) const {
    return start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(device_s / o_.time_scale));
  }

  void next_arrival() {
    if (next_ >= w_.arrivals().size()) {
      arrivals_done_ = true;
      return maybe_finish();
    }
    arrival_timer_.expires_at(at(w_.arrivals()[next_].at));
    arrival_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopped_) return;
      std::size_t i = next_++;
      std::size_t user = w_.arrivals()[i].user;
      // Open loop: the arrival goes now. When its user still waits for an answer, the next
      // idle user sends it instead; when every user waits, a new user joins and sends it.
      for (std::size_t k = 0; k < busy_.size() && busy_[user]; ++k) user = (user + 1) % busy_.size();
      if (busy_[user]) {
        user = w_.add_user();
        busy_.push_back(false);
        records_[i].new_user = true;
      }
      records_[i].user = user;
      send(i);
      next_arrival();
    });
  }

  void send(std::size_t i) {
    const auto& a = w_.arrivals()[i];
    Record& r = records_[i];
    r.index = i;
    r.burst = a.burst;
    r.sched_s = a.at;
    r.turn = w_.next(r.user);
    busy_[r.user] = true;
    ++in_flight_;
    json body = {{"model", o_.model},
                 {"messages", r.turn.messages},
                 {"max_tokens", r.turn.max_tokens},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}}};
    auto request = duet::http::make_request(duet::http::bhttp::verb::post, o_.path, to_, body.dump(), "application/json");
    request.set(o_.session_header, w_.session(r.user));
    r.sent = Clock::now();
    r.sent_ok = true;
    duet::http::StreamHandlers h;
    h.on_header = [this, i](const duet::http::ClientResponseHeader& header) {
      Record& r = records_[i];
      r.status = header.result_int();
      if (auto it = header.find("x-duet-replica"); it != header.end()) r.replica = std::string(it->value());
    };
    h.on_data = [this, i](std::string_view piece) { on_data(records_[i], piece); };
    h.on_end = [this, i](duet::http::error_code ec) { on_end(i, ec); };
    r.call = duet::http::ClientCall::stream(io_.get_executor(), to_, std::move(request), std::chrono::minutes(10), std::move(h));
  }

  void on_data(Record& r, std::string_view piece) {
    auto now = Clock::now();
    for (const auto& data : r.sse.feed(piece)) {
      if (data == "[DONE]" || r.status != 200) continue;
      json event = json::parse(data, nullptr, false);
      if (event.is_discarded()) continue;
      if (auto usage = event.find("usage"); usage != event.end() && usage->is_object()) {
        r.prompt_tokens = usage->value("prompt_tokens", int64_t{-1});
        if (auto d = usage->find("prompt_tokens_details"); d != usage->end() && d->is_object())
          r.cached_tokens = d->value("cached_tokens", int64_t{-1});
      }
      auto choices = event.find("choices");
      if (choices == event.end() || !choices->is_array() || choices->empty()) continue;
      const json& c = (*choices)[0];
      std::string text;
      if (auto delta = c.find("delta"); delta != c.end() && delta->is_object()) {
        if (auto content = delta->find("content"); content != delta->end() && content->is_string())
          text = content->get<std::string>();
      } else if (auto t = c.find("text"); t != c.end() && t->is_string()) {
        text = t->get<std::string>();
      }
      if (text.empty()) continue;
      if (!r.got_first) {
        r.first = now;
        r.got_first = true;
      } else {
        r.gaps_ms.push_back(device_ms(now - r.last));
      }
      r.last = now;
      ++r.tokens;
      r.answer += text;
    }
  }

  void on_end(std::size_t i, duet::http::error_code ec) {
    Record& r = records_[i];
    r.ended = Clock::now();
    r.call.reset();
    if (ec) r.error = ec.message();
    r.finished = !ec && r.status == 200;
    --in_flight_;
    busy_[r.user] = false;
    if (r.finished) w_.answered(r.user, r.answer);
    maybe_finish();
  }

  void maybe_finish() {
    if (!arrivals_done_ || in_flight_ > 0) return;
    stop_all();
  }

  void stop_all() {
    if (stopped_) return;
    stopped_ = true;
    arrival_timer_.cancel();
    drain_timer_.cancel();
    for (auto& r : records_)
      if (r.call) {
        r.cancelled = true;
        r.call->cancel();  // its on_end sees operation_aborted
      }
  }

  const Options& o_;
  Workload& w_;
  duet::Address to_;
  asio::io_context io_;
  asio::steady_timer arrival_timer_, drain_timer_;
  Clock::time_point start_;
  std::vector<Record> records_;
  std::vector<bool> busy_;
  std::size_t next_ = 0;
  std::size_t in_flight_ = 0;
  bool arrivals_done_ = false;
  bool stopped_ = false;
};

// Per-request lines, and the summary line.
void report(const Options& o, const Runner& run) {
  const auto& records = run.records();
  std::ofstream out;
  if (!o.out.empty()) {
    std::ifstream exists(o.out);
    bool header = !exists.good() || exists.peek() == std::ifstream::traits_type::eof();
    out.open(o.out, std::ios::app);
    if (header)
      out << "workload\tpolicy\tround\tid\tuser\tconversation\tturn\tclass\tburst\tsched_s\tsend_s\tnew_user\tttft_ms"
             "\te2e_ms\toutput_tokens\tprompt_tokens\tcached_tokens\titl_mean_ms\titl_max_ms\treplica\tstatus\terror\n";
  }
  std::vector<double> ttft, gaps;
  std::map<std::string, std::vector<double>> ttft_by;
  std::size_t sent = 0, finished = 0, failed = 0, unfinished = 0, not_sent = 0, new_users = 0;
  uint64_t tokens = 0, prompt = 0, cached = 0;
  Clock::time_point first_send = Clock::time_point::max(), last_token = run.start();
  for (const auto& r : records) {
    if (!r.sent_ok) {
      ++not_sent;
      continue;
    }
    ++sent;
    if (r.new_user) ++new_users;
    first_send = std::min(first_send, r.sent);
    tokens += r.tokens;
    if (r.got_first) last_token = std::max(last_token, r.last);
    // TTFT of a request cut off by the drain before its first token: a lower bound.
    double t = r.got_first ? run.device_ms(r.first - r.sent) : r.cancelled ? run.device_ms(r.ended - r.sent) : -1;
    if (r.finished) {
      ++finished;
      if (r.prompt_tokens > 0) prompt += static_cast<uint64_t>(r.prompt_tokens);
      if (r.cached_tokens > 0) cached += static_cast<uint64_t>(r.cached_tokens);
    } else if (r.cancelled) {
      ++unfinished;
    } else {
      ++failed;
      t = -1;
    }
    if (t >= 0) {
      ttft.push_back(t);
      ttft_by[r.turn.cls].push_back(t);
      if (r.burst) ttft_by["burst"].push_back(t);
    }
    gaps.insert(gaps.end(), r.gaps_ms.begin(), r.gaps_ms.end());
    if (out.is_open()) {
      double itl_mean = 0, itl_max = 0;
      for (double g : r.gaps_ms) itl_mean += g, itl_max = std::max(itl_max, g);
      if (!r.gaps_ms.empty()) itl_mean /= static_cast<double>(r.gaps_ms.size());
      char line[512];
      std::snprintf(line, sizeof line, "%zu\t%zu\t%llu\t%u\t%s\t%d\t%.3f\t%.3f\t%d\t%.1f\t%.1f\t%llu\t%lld\t%lld\t%.2f\t%.2f\t",
                    r.index, r.user, static_cast<unsigned long long>(r.turn.conversation), r.turn.turn,
                    r.turn.cls.c_str(), r.burst ? 1 : 0, r.sched_s, run.device_s(r.sent), r.new_user ? 1 : 0, t,
                    run.device_ms(r.ended - r.sent), static_cast<unsigned long long>(r.tokens),
                    static_cast<long long>(r.prompt_tokens), static_cast<long long>(r.cached_tokens), itl_mean, itl_max);
      out << o.workload.name << '\t' << o.label << '\t' << o.round << '\t' << line << r.replica << '\t' << r.status
          << '\t' << (r.error.empty() ? "-" : r.error) << '\n';
    }
  }
  double span_s = last_token > first_send ? run.device_s(last_token) - run.device_s(first_send) : 0;
  std::printf("time_scale %g requests %zu sent %zu finished %zu failed %zu unfinished %zu not_sent %zu new_users %zu",
              o.time_scale, records.size(), sent, finished, failed, unfinished, not_sent, new_users);
  std::printf(" ttft_p50_ms %.1f ttft_p90_ms %.1f ttft_p99_ms %.1f itl_p50_ms %.2f itl_p99_ms %.2f",
              percentile(ttft, 0.5), percentile(ttft, 0.9), percentile(ttft, 0.99), percentile(gaps, 0.5),
              percentile(gaps, 0.99));
  std::printf(" output_tokens %llu span_s %.2f output_tok_s %.1f prompt_tokens %llu cached_tokens %llu hit_rate %.4f",
              static_cast<unsigned long long>(tokens), span_s, span_s > 0 ? static_cast<double>(tokens) / span_s : 0,
              static_cast<unsigned long long>(prompt), static_cast<unsigned long long>(cached),
              prompt ? static_cast<double>(cached) / static_cast<double>(prompt) : 0);
  for (const char* cls : {"small", "large", "burst"}) {
    auto it = ttft_by.find(cls);
    if (it == ttft_by.end()) continue;
    std::printf(" %s_ttft_p50_ms %.1f %s_ttft_p90_ms %.1f %s_requests %zu", cls, percentile(it->second, 0.5), cls,
                percentile(it->second, 0.9), cls, it->second.size());
  }
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  double cpu_s = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                 static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
  double wall_s = std::chrono::duration<double>(Clock::now() - run.start()).count();
  std::printf(" wall_s %.2f client_cpu_pct %.1f\n", wall_s, wall_s > 0 ? 100 * cpu_s / wall_s : 0);
}

// The plan: what the workload asks of the pool, and the KV blocks per engine that make its
// demand --kv-fill of the pool's capacity, shared in proportion to each device's memory.
void print_plan(const Options& o, const Workload& w) {
  auto p = w.plan();
  std::printf("requests %zu mean_prompt_tokens %.0f mean_new_tokens %.0f mean_answer_tokens %.0f demand_tokens %zu"
              " largest_request_tokens %zu",
              p.requests, p.mean_prompt_tokens, p.mean_new_tokens, p.mean_answer_tokens, p.demand_tokens,
              p.largest_request_tokens);
  if (o.pool.empty()) return (void)std::printf("\n");
  struct Member {
    std::string profile;
    std::size_t count = 0, block = 0;
    double weight = 0;
  };
  std::vector<Member> pool;
  std::stringstream list(o.pool);
  std::string item;
  double total_weight = 0, prefill_capacity = 0;
  duet::sim::model::ModelShape shape;
  while (std::getline(list, item, ',')) {
    Member m;
    std::stringstream parts(item);
    std::string count, block;
    std::getline(parts, m.profile, ':');
    std::getline(parts, count, ':');
    std::getline(parts, block, ':');
    auto device = duet::sim::model::find_profile(m.profile);
    if (!device) throw std::invalid_argument("--pool: unknown profile " + m.profile);
    m.count = std::stoul(count);
    m.block = std::stoul(block);
    m.weight = static_cast<double>(duet::sim::model::kv_capacity_tokens(*device, shape));
    total_weight += m.weight * static_cast<double>(m.count);
    // Prefill tokens per second of one engine: full 8192-token steps.
    prefill_capacity += static_cast<double>(m.count) * 8192.0 /
                        std::chrono::duration<double>(duet::sim::model::step_time(*device, shape, 8192, 0)).count();
    pool.push_back(m);
  }
  double needed = static_cast<double>(p.demand_tokens) / o.kv_fill;
  double capacity = 0;
  for (auto& m : pool) {
    double tokens = needed * m.weight / total_weight;
    std::size_t blocks = static_cast<std::size_t>(std::ceil(tokens / static_cast<double>(m.block)));
    // Every engine must take the largest request whole, or it would refuse it.
    blocks = std::max(blocks, (p.largest_request_tokens + m.block - 1) / m.block + 1);
    capacity += static_cast<double>(blocks * m.block * m.count);
    std::printf(" kv_blocks_%s %zu prefill_tok_s_%s %.0f", m.profile.c_str(), blocks, m.profile.c_str(),
                8192.0 / std::chrono::duration<double>(
                             duet::sim::model::step_time(*duet::sim::model::find_profile(m.profile), shape, 8192, 0))
                             .count());
  }
  if (o.workload.name == "mixed-pools")
    std::printf(" offered_small_prefill_tok_s %.0f burst_small_prefill_tok_s %.0f offered_large_prefill_tok_s %.0f",
                o.workload.rate * p.mean_small_prompt_tokens, o.workload.burst_rate * p.mean_small_prompt_tokens,
                o.workload.large_rate * p.mean_large_prompt_tokens);
  double rate = static_cast<double>(p.requests) / o.workload.duration;
  std::printf(" pool_kv_tokens %.0f kv_demand_share %.3f pool_prefill_tok_s %.0f offered_prefill_tok_s_uncached %.0f"
              " offered_prefill_tok_s_ideal_cache %.0f offered_output_tok_s %.0f\n",
              capacity, static_cast<double>(p.demand_tokens) / capacity, prefill_capacity,
              rate * p.mean_prompt_tokens, rate * p.mean_new_tokens, rate * p.mean_answer_tokens);
}

Options parse(int argc, char** argv) {
  Options o;
  auto& w = o.workload;
  using Setter = std::function<void(const std::string&)>;
  auto num = [](double& to) { return Setter([&to](const std::string& v) { to = std::stod(v); }); };
  auto uns = [](unsigned& to) { return Setter([&to](const std::string& v) { to = static_cast<unsigned>(std::stoul(v)); }); };
  auto str = [](std::string& to) { return Setter([&to](const std::string& v) { to = v; }); };
  std::map<std::string, Setter> flags = {
      {"--to", str(o.to)}, {"--path", str(o.path)}, {"--model", str(o.model)},
      {"--session-header", str(o.session_header)}, {"--time-scale", num(o.time_scale)}, {"--drain", num(o.drain)},
      {"--out", str(o.out)}, {"--label", str(o.label)}, {"--round", str(o.round)}, {"--pool", str(o.pool)},
      {"--kv-fill", num(o.kv_fill)}, {"--workload", str(w.name)},
      {"--seed", [&w](const std::string& v) { w.seed = std::stoull(v); }},
      {"--rate", num(w.rate)}, {"--duration", num(w.duration)},
      {"--groups", uns(w.groups)}, {"--users-per-group", uns(w.users_per_group)},
      {"--context-tokens", uns(w.context_tokens)}, {"--question-tokens", uns(w.question_tokens)},
      {"--answer-tokens", uns(w.answer_tokens)}, {"--turns", uns(w.turns)},
      {"--chat-users", uns(w.chat_users)}, {"--prompt-median", num(w.prompt_median)},
      {"--prompt-sigma", num(w.prompt_sigma)}, {"--prompt-max", uns(w.prompt_max)},
      {"--answer-median", num(w.answer_median)}, {"--answer-sigma", num(w.answer_sigma)},
      {"--answer-max", uns(w.answer_max)}, {"--turns-mean", num(w.turns_mean)},
      {"--large-rate", num(w.large_rate)}, {"--burst-at", num(w.burst_at)}, {"--burst-for", num(w.burst_for)},
      {"--burst-rate", num(w.burst_rate)}, {"--small-min", uns(w.small_min)}, {"--small-max", uns(w.small_max)},
      {"--large-min", uns(w.large_min)}, {"--large-max", uns(w.large_max)},
      {"--small-answer", uns(w.small_answer)}, {"--large-answer", uns(w.large_answer)},
  };
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--plan") {
      o.plan = true;
      continue;
    }
    auto it = flags.find(flag);
    if (it == flags.end()) throw std::invalid_argument("unknown flag " + flag);
    if (i + 1 >= argc) throw std::invalid_argument(flag + ": a value is needed");
    try {
      it->second(argv[++i]);
    } catch (const std::logic_error&) {
      throw std::invalid_argument(flag + ": bad value \"" + argv[i] + "\"");
    }
  }
  if (!o.plan && o.to.empty()) throw std::invalid_argument("--to HOST:PORT is needed");
  if (o.time_scale <= 0 || w.duration <= 0 || w.rate <= 0 || o.kv_fill <= 0)
    throw std::invalid_argument("--time-scale, --duration, --rate and --kv-fill must be positive");
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  Options o = parse(argc, argv);
  Workload workload(o.workload);
  if (o.plan) {
    print_plan(o, workload);
    return 0;
  }
  Runner runner(o, workload);
  runner.run();
  report(o, runner);
} catch (const std::exception& e) {
  std::cerr << "duet-bench-sched: " << e.what() << "\n";
  return 2;
}
