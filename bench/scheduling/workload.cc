#include "scheduling/workload.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "duet/common/hash.h"
#include "sim/prompt_ids.h"

namespace duet::bench::sched {

namespace {

using nlohmann::json;

// splitmix64: the same numbers on every machine and standard library, which <random>'s
// distributions do not promise.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(uniform() * static_cast<double>(n)); }
  double exponential(double rate) { return -std::log1p(-uniform()) / rate; }
  double normal() {  // Box-Muller
    double u = 1.0 - uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2 * std::numbers::pi * uniform());
  }

 private:
  uint64_t state_;
};

uint64_t mix(uint64_t seed, std::initializer_list<uint64_t> parts) {
  uint64_t h = spread(seed ^ kFnvOffsetBasis);
  for (uint64_t p : parts) h = spread(fnv1a_step(h, p));
  return h;
}

enum Tag : uint64_t { kArrivals = 1, kContext, kTurn, kStandIn };

unsigned log_normal(Rng& r, double median, double sigma, unsigned lo, unsigned hi) {
  double v = std::exp(std::log(median) + sigma * r.normal());
  return static_cast<unsigned>(std::clamp(std::lround(v), static_cast<long>(lo), static_cast<long>(hi)));
}

void poisson(Rng& r, double rate, double from, double to, std::vector<Arrival>& out, bool burst) {
  if (rate <= 0) return;
  for (double t = from + r.exponential(rate); t < to; t += r.exponential(rate)) out.push_back({t, 0, burst});
}

bool shared(const WorkloadOptions& o) { return o.name == "shared-context"; }
bool chat(const WorkloadOptions& o) { return o.name == "chat"; }
bool mixed(const WorkloadOptions& o) { return o.name == "mixed-pools"; }

std::size_t prompt_tokens(const json& messages) {
  return sim::prompt_ids(sim::Api::chat, json{{"messages", messages}}).size();
}

}  // namespace

std::string words(uint64_t seed, std::size_t tokens) {
  Rng r(seed);
  std::string text;
  text.reserve(tokens * 5);
  for (std::size_t i = 0; i < tokens; ++i) {
    if (i) text += ' ';
    std::size_t letters = 2 + r.below(5);
    for (std::size_t k = 0; k < letters; ++k) text += static_cast<char>('a' + r.below(26));
  }
  return text;
}

Workload::Workload(WorkloadOptions options) : o_(std::move(options)) {
  if (!shared(o_) && !chat(o_) && !mixed(o_))
    throw std::invalid_argument("--workload: expected shared-context, chat or mixed-pools, got \"" + o_.name + "\"");
  Rng r(mix(o_.seed, {kArrivals}));
  if (mixed(o_)) {
    // Small prompts at `rate`, and more during the burst; large ones throughout.
    poisson(r, o_.rate, 0, o_.duration, arrivals_, false);
    double burst_end = std::min(o_.duration, o_.burst_at + o_.burst_for);
    poisson(r, o_.burst_rate - o_.rate, o_.burst_at, burst_end, arrivals_, true);
    std::size_t small = arrivals_.size();
    poisson(r, o_.large_rate, 0, o_.duration, arrivals_, false);
    for (std::size_t i = small; i < arrivals_.size(); ++i) arrivals_[i].user = 1;  // mark, sorted below
    for (auto& a : arrivals_)
      if (a.user == 0 && a.at >= o_.burst_at && a.at < burst_end) a.burst = true;
    std::sort(arrivals_.begin(), arrivals_.end(), [](const Arrival& a, const Arrival& b) { return a.at < b.at; });
    users_.resize(arrivals_.size());
    for (std::size_t i = 0; i < arrivals_.size(); ++i) {
      users_[i].group = static_cast<unsigned>(arrivals_[i].user);  // 1: large
      arrivals_[i].user = i;  // every request is a user of its own
    }
    return;
  }
  std::size_t n = shared(o_) ? std::size_t{o_.groups} * o_.users_per_group : o_.chat_users;
  if (n == 0) throw std::invalid_argument("the workload has no users");
  users_.resize(n);
  if (shared(o_)) {
    for (std::size_t u = 0; u < n; ++u) users_[u].group = static_cast<unsigned>(u / o_.users_per_group);
    for (unsigned g = 0; g < o_.groups; ++g)
      contexts_.push_back("Reference document " + std::to_string(g) + ". " + words(mix(o_.seed, {kContext, g}), o_.context_tokens));
  }
  poisson(r, o_.rate, 0, o_.duration, arrivals_, false);
  for (auto& a : arrivals_) a.user = r.below(n);
}

std::size_t Workload::add_user() {
  User u;
  if (shared(o_)) u.group = static_cast<unsigned>(users_.size() % o_.groups);
  users_.push_back(std::move(u));
  return users_.size() - 1;
}

std::string Workload::session(std::size_t user) const { return "user-" + std::to_string(user); }

Turn Workload::next(std::size_t user) {
  User& u = users_.at(user);
  if (!u.started || u.turn >= u.turns_planned) {
    if (u.started) ++u.conversation;
    u.started = true;
    u.turn = 0;
    u.messages = json::array();
    Rng r(mix(o_.seed, {kTurn, user, u.conversation, 1000}));
    if (shared(o_)) {
      u.turns_planned = o_.turns;
      u.messages.push_back({{"role", "system"}, {"content", contexts_.at(u.group)}});
    } else if (chat(o_)) {
      u.turns_planned = 1;
      while (u.turns_planned < 12 && r.uniform() < 1.0 - 1.0 / o_.turns_mean) ++u.turns_planned;
      u.messages.push_back({{"role", "system"}, {"content", "You are a helpful assistant. Answer briefly and precisely."}});
    } else {
      u.turns_planned = 1;
    }
  }
  Rng r(mix(o_.seed, {kTurn, user, u.conversation, u.turn}));
  Turn t;
  t.conversation = u.conversation;
  t.turn = u.turn;
  std::size_t tokens = 0;
  if (shared(o_)) {
    unsigned q = o_.question_tokens ? o_.question_tokens : o_.context_tokens / 5;
    tokens = std::max<std::size_t>(1, std::lround(q * (0.75 + 0.5 * r.uniform())));
    t.max_tokens = o_.answer_tokens;
    t.cls = "shared";
  } else if (chat(o_)) {
    tokens = log_normal(r, o_.prompt_median, o_.prompt_sigma, 4, o_.prompt_max);
    t.max_tokens = log_normal(r, o_.answer_median, o_.answer_sigma, 4, o_.answer_max);
    t.cls = "chat";
  } else {
    bool large = u.group == 1;
    unsigned lo = large ? o_.large_min : o_.small_min, hi = large ? o_.large_max : o_.small_max;
    tokens = lo + r.below(hi - lo + 1);
    t.max_tokens = large ? o_.large_answer : o_.small_answer;
    t.cls = large ? "large" : "small";
  }
  u.messages.push_back({{"role", "user"}, {"content", words(r.next(), tokens)}});
  ++u.turn;
  t.messages = u.messages;
  return t;
}

void Workload::answered(std::size_t user, const std::string& text) {
  users_.at(user).messages.push_back({{"role", "assistant"}, {"content", text}});
}

Plan Workload::plan() const {
  Workload w = *this;
  Plan p;
  std::vector<std::size_t> live(w.users_.size(), 0);   // each user's own tokens now
  std::vector<std::size_t> after(w.users_.size(), 0);  // prompt + answer of the user's last turn
  std::vector<bool> group_seen(o_.groups, false);
  std::size_t context_each = shared(o_) ? prompt_tokens(json::array({{{"role", "system"}, {"content", contexts_.at(0)}}})) - 2 : 0;
  std::size_t contexts = 0, own = 0;
  double prompt_sum = 0, new_sum = 0, answer_sum = 0;
  double class_sum[2] = {0, 0}, class_n[2] = {0, 0};
  for (const auto& a : w.arrivals_) {
    Turn t = w.next(a.user);
    std::size_t prompt = prompt_tokens(t.messages);
    std::size_t before = t.turn > 0 ? after[a.user] : (shared(o_) ? context_each : 0);
    prompt_sum += static_cast<double>(prompt);
    if (mixed(o_)) {
      int large = t.cls == "large" ? 1 : 0;
      class_sum[large] += static_cast<double>(prompt);
      class_n[large] += 1;
    }
    new_sum += static_cast<double>(prompt - std::min(prompt, before));
    answer_sum += static_cast<double>(t.max_tokens);
    p.largest_request_tokens = std::max<std::size_t>(p.largest_request_tokens, prompt + t.max_tokens);
    w.answered(a.user, " " + words(mix(o_.seed, {kStandIn, a.user, t.conversation, t.turn}), t.max_tokens));
    after[a.user] = prompt + t.max_tokens;
    if (shared(o_)) {
      unsigned g = w.users_[a.user].group;
      if (!group_seen[g]) contexts += context_each;
      group_seen[g] = true;
    }
    if (!mixed(o_)) {
      own -= live[a.user];
      live[a.user] = prompt + t.max_tokens - (shared(o_) ? context_each : 0);
      own += live[a.user];
    }
    p.demand_tokens = std::max(p.demand_tokens, contexts + own);
  }
  p.requests = w.arrivals_.size();
  if (p.requests) {
    auto n = static_cast<double>(p.requests);
    p.mean_prompt_tokens = prompt_sum / n;
    p.mean_new_tokens = new_sum / n;
    p.mean_answer_tokens = answer_sum / n;
  }
  if (class_n[0] > 0) p.mean_small_prompt_tokens = class_sum[0] / class_n[0];
  if (class_n[1] > 0) p.mean_large_prompt_tokens = class_sum[1] / class_n[1];
  return p;
}

}  // namespace duet::bench::sched
