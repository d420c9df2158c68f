#pragma once
// The workloads of bench/scheduling (README.md there): who sends what, when. Everything is a
// function of the seed: the arrival times (open-loop Poisson), which user each arrival is,
// every question's words and length and every answer's length, so each policy of a run gets
// the same requests. Only the answers' words come back from the engine (duet-sim's answer is
// a function of its prompt, so they are the same too) and are resent in the next turn.
// Times are in device seconds (the engines' modelled clock); the client divides by
// --time-scale.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace duet::bench::sched {

struct WorkloadOptions {
  std::string name = "shared-context";  // shared-context | chat | mixed-pools
  uint64_t seed = 1;
  double rate = 10;       // arrivals per device second (mixed-pools: small prompts, outside the burst)
  double duration = 60;   // device seconds of arrivals
  // shared-context: groups sharing a context document, users per group, turns per conversation.
  unsigned groups = 8;
  unsigned users_per_group = 5;
  unsigned context_tokens = 3000;
  unsigned question_tokens = 0;  // 0: a fifth of the context (llm-d: 6K context, 1.2K questions)
  unsigned answer_tokens = 48;
  unsigned turns = 3;
  // chat: independent conversations, log-normal lengths (median, sigma of the log), capped.
  unsigned chat_users = 64;
  double prompt_median = 150, prompt_sigma = 1.0;
  unsigned prompt_max = 3000;
  double answer_median = 64, answer_sigma = 0.8;
  unsigned answer_max = 512;
  double turns_mean = 4;
  // mixed-pools: small prompts at `rate`, `burst_rate` during the burst; large ones at
  // `large_rate`; prompt lengths uniform in [min, max] tokens.
  double large_rate = 0.4;
  double burst_at = 20, burst_for = 15, burst_rate = 40;
  unsigned small_min = 300, small_max = 1200, large_min = 3000, large_max = 6000;
  unsigned small_answer = 16, large_answer = 32;
};

struct Arrival {
  double at = 0;          // device seconds from the start
  std::size_t user = 0;
  bool burst = false;     // mixed-pools: a small prompt sent during the burst
};

// One turn as sent.
struct Turn {
  nlohmann::json messages;
  uint64_t max_tokens = 0;
  uint64_t conversation = 0;  // of this user, from 0
  unsigned turn = 0;          // within the conversation, from 0
  std::string cls;            // shared | chat | small | large
};

// What the workload asks of the pool, assuming every turn is answered at once.
struct Plan {
  std::size_t requests = 0;
  double mean_prompt_tokens = 0;  // as the engine tokenizes them (chat template included)
  double mean_new_tokens = 0;     // what is not in the prefix of the user's previous turn or the group's context
  double mean_answer_tokens = 0;
  // The largest live working set: every group's context once, plus every user's conversation
  // so far (the KV that must stay cached for every turn to find its prefix), in tokens.
  std::size_t demand_tokens = 0;
  std::size_t largest_request_tokens = 0;  // prompt + max_tokens
  double mean_small_prompt_tokens = 0;     // mixed-pools: by class
  double mean_large_prompt_tokens = 0;
};

class Workload {
 public:
  explicit Workload(WorkloadOptions options);

  const WorkloadOptions& options() const { return o_; }
  const std::vector<Arrival>& arrivals() const { return arrivals_; }
  std::size_t users() const { return users_.size(); }
  // The session key of a user (sent as the session header; sessionAffinity hashes it).
  std::string session(std::size_t user) const;

  // The next turn of `user`, its conversation so far included.
  Turn next(std::size_t user);
  // The answer to the turn next() gave last; resent in the following turn. A turn that
  // failed is not answered: the next one goes without it.
  void answered(std::size_t user, const std::string& text);
  // One more user (shared-context: of the next group in turn), for an arrival that finds
  // every user waiting for an answer; returns its index.
  std::size_t add_user();

  // Runs the whole schedule with stand-in answers of the right length; leaves no state.
  Plan plan() const;

 private:
  struct User {
    unsigned group = 0;
    uint64_t conversation = 0;
    unsigned turn = 0;          // turns sent in the current conversation
    unsigned turns_planned = 0; // of the current conversation
    bool started = false;
    nlohmann::json messages = nlohmann::json::array();
  };

  WorkloadOptions o_;
  std::vector<Arrival> arrivals_;
  std::vector<User> users_;
  std::vector<std::string> contexts_;  // shared-context: one document per group
};

// Text of exactly `tokens` duet-sim tokens: words of 2 to 6 letters, one space between
// (about 5 bytes a token, so duet's router estimates ~1.25 tokens for each).
std::string words(uint64_t seed, std::size_t tokens);

}  // namespace duet::bench::sched
