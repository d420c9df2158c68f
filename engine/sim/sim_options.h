#pragma once
// Command-line flags of duet-sim (SPEC §4): what it listens on, which model it pretends to
// serve, how slow it is, and which faults it injects. Parsing never exits; main() does.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duet/common/standard_flags.h"
#include "sim/fault_injector.h"

namespace duet::sim {

struct SimOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = an ephemeral port, printed in the `listening` log line
  std::string model = "duet-sim";
  std::chrono::microseconds ttft{0};
  std::chrono::microseconds tpot{0};    // per output token after the first
  std::size_t max_concurrency = 0;      // 0 = unlimited; requests beyond it wait in FIFO order
  double fail_rate = 0.0;               // share of inference requests answered 500
  std::optional<uint64_t> crash_after;  // serve N inference requests, die on the next
  std::optional<uint64_t> hang_after;   // serve N inference requests, then answer nothing
  AnswerCrash answer_crash;             // answers that break off after N tokens
  bool token_ids = true;                // return_token_ids is honoured (engine model)
  std::string name;                     // x-duet-replica; empty = host:port once bound
  unsigned threads = 1;
  std::size_t max_connections = 1024;  // open at once; one more gets 503 + Retry-After
  uint64_t output_tokens = 16;     // tokens generated when a request has no max_tokens
  uint64_t max_model_len = 32768;  // prompt + output tokens, as vLLM's --max-model-len
  std::optional<uint64_t> seed;    // fail-rate draws and ids; random when absent
  std::string log_level = "info";
  // After SIGTERM: answers in progress get this long to finish; then each is cut.
  std::chrono::microseconds shutdown_timeout = std::chrono::seconds(5);
  // The engine model (engine/README.md): off unless --profile names a device.
  std::string profile;
  std::size_t block_size = 16;             // tokens per KV block (vLLM's default)
  std::size_t kv_blocks = 0;               // 0: what the profile's memory holds
  bool prefix_caching = true;
  std::size_t max_num_seqs = 256;
  std::size_t max_num_batched_tokens = 8192;
  double time_scale = 1.0;                 // > 1 runs the engine's clock faster
  bool help = false;
};

// Looks up an environment variable (injected so tests need not touch the real environment).
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// Parses `args` (without the program name). `--flag value` and `--flag=value` both work.
// $DUET_REPLICA, when set, is the default --name. Throws UsageError.
SimOptions parse_options(const std::vector<std::string>& args, const EnvLookup& env);

// The --help text.
std::string usage();

}  // namespace duet::sim
