#include "sim/sim_options.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "duet/common/log.h"
#include "duet/common/standard_flags.h"
#include "sim/model/device_profile.h"

namespace duet::sim {

namespace {

namespace po = boost::program_options;

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

[[noreturn]] void bad_value(std::string_view flag, std::string_view expected,
                            std::string_view text) {
  throw UsageError(std::string(flag) + ": expected " + std::string(expected) + ", got \"" +
                   std::string(text) + "\"");
}

uint64_t parse_uint(std::string_view flag, std::string_view text, uint64_t min, uint64_t max) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    std::string range =
        max == kMaxU64 ? "an integer >= " + std::to_string(min)
                       : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    bad_value(flag, range, text);
  }
  return value;
}

double parse_double(std::string_view flag, std::string_view text, double min, double max,
                    std::string_view expected) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < min || value > max)
    bad_value(flag, expected, text);
  return value;
}

std::chrono::microseconds parse_ms(std::string_view flag, std::string_view text) {
  // An hour is far beyond any latency worth simulating and keeps the arithmetic safe.
  double ms = parse_double(flag, text, 0, 3'600'000, "milliseconds from 0 to 3600000");
  return std::chrono::microseconds(std::llround(ms * 1000));
}

std::string profile_list() {
  std::string out;
  for (const auto& name : model::profile_names()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

using Setter = std::function<void(SimOptions&, std::string_view flag, std::string_view value)>;

const std::map<std::string, Setter, std::less<>>& setters() {
  static const std::map<std::string, Setter, std::less<>> table = {
      {"--host", [](SimOptions& o, auto, auto v) { o.host = v; }},
      {"--port", [](SimOptions& o, auto f,
                    auto v) { o.port = static_cast<uint16_t>(parse_uint(f, v, 0, 65535)); }},
      {"--model",
       [](SimOptions& o, auto f, auto v) {
         if (v.empty()) bad_value(f, "a model name", v);
         o.model = v;
       }},
      {"--ttft-ms", [](SimOptions& o, auto f, auto v) { o.ttft = parse_ms(f, v); }},
      {"--tpot-ms", [](SimOptions& o, auto f, auto v) { o.tpot = parse_ms(f, v); }},
      {"--shutdown-timeout-ms",
       [](SimOptions& o, auto f, auto v) { o.shutdown_timeout = parse_ms(f, v); }},
      {"--max-concurrency",
       [](SimOptions& o, auto f, auto v) { o.max_concurrency = parse_uint(f, v, 0, 1'000'000); }},
      {"--max-connections",
       [](SimOptions& o, auto f, auto v) { o.max_connections = parse_uint(f, v, 1, 1'000'000); }},
      {"--fail-rate",
       [](SimOptions& o, auto f, auto v) {
         o.fail_rate = parse_double(f, v, 0, 1, "a share from 0 to 1");
       }},
      {"--crash-after",
       [](SimOptions& o, auto f, auto v) { o.crash_after = parse_uint(f, v, 0, kMaxU64); }},
      {"--crash-after-tokens",
       [](SimOptions& o, auto f, auto v) { o.answer_crash.after_tokens = parse_uint(f, v, 0, kMaxU64); }},
      {"--crash-mode",
       [](SimOptions& o, auto f, auto v) {
         auto mode = parse_crash_mode(v);
         if (!mode) bad_value(f, "rst, fin, error-event-then-done, no-finish, abort or stall", v);
         o.answer_crash.mode = *mode;
       }},
      {"--crash-rate",
       [](SimOptions& o, auto f, auto v) {
         o.answer_crash.rate = parse_double(f, v, 0, 1, "a share from 0 to 1");
       }},
      {"--token-ids",
       [](SimOptions& o, auto f, auto v) {
         if (v != "on" && v != "off") bad_value(f, "on or off", v);
         o.token_ids = v == "on";
       }},
      {"--hang-after",
       [](SimOptions& o, auto f, auto v) { o.hang_after = parse_uint(f, v, 0, kMaxU64); }},
      {"--name", [](SimOptions& o, auto, auto v) { o.name = v; }},
      {"--threads", [](SimOptions& o, auto f,
                       auto v) { o.threads = static_cast<unsigned>(parse_uint(f, v, 1, 256)); }},
      {"--output-tokens",
       [](SimOptions& o, auto f, auto v) { o.output_tokens = parse_uint(f, v, 1, 1'000'000); }},
      {"--max-model-len",
       [](SimOptions& o, auto f, auto v) { o.max_model_len = parse_uint(f, v, 1, 100'000'000); }},
      {"--seed", [](SimOptions& o, auto f, auto v) { o.seed = parse_uint(f, v, 0, kMaxU64); }},
      {"--profile",
       [](SimOptions& o, auto f, auto v) {
         if (!model::find_profile(v)) bad_value(f, "one of " + profile_list(), v);
         o.profile = v;
       }},
      {"--block-size", [](SimOptions& o, auto f, auto v) { o.block_size = parse_uint(f, v, 1, 1024); }},
      {"--kv-blocks", [](SimOptions& o, auto f, auto v) { o.kv_blocks = parse_uint(f, v, 0, 100'000'000); }},
      {"--prefix-caching",
       [](SimOptions& o, auto f, auto v) {
         if (v != "on" && v != "off") bad_value(f, "on or off", v);
         o.prefix_caching = v == "on";
       }},
      {"--max-num-seqs", [](SimOptions& o, auto f, auto v) { o.max_num_seqs = parse_uint(f, v, 1, 100'000); }},
      {"--max-num-batched-tokens",
       [](SimOptions& o, auto f, auto v) { o.max_num_batched_tokens = parse_uint(f, v, 1, 10'000'000); }},
      {"--time-scale",
       [](SimOptions& o, auto f, auto v) {
         o.time_scale = parse_double(f, v, 0.001, 1'000'000, "a factor from 0.001 to 1000000");
       }},
      {"--log-level",
       [](SimOptions& o, auto f, auto v) {
         try {
           Logger::parse_level(v);
         } catch (const std::invalid_argument&) {
           bad_value(f, "debug, info, warn or error", v);
         }
         o.log_level = v;
       }},
  };
  return table;
}

}  // namespace

SimOptions parse_options(const std::vector<std::string>& args, const EnvLookup& env) {
  SimOptions options;
  if (auto replica = env("DUET_REPLICA"); replica && !replica->empty()) options.name = *replica;
  po::options_description flags;
  // Boost names a flag without its "--". By entry, not structured binding: clang 15 (the
  // fuzz build) cannot capture a binding.
  for (const auto& entry : setters())
    flags.add_options()(entry.first.c_str() + 2, po::value<std::string>()->notifier(
                                                     [&options, &entry](const std::string& value) {
                                                       entry.second(options, entry.first, value);
                                                     }));
  flags.add_options()("help,h", po::bool_switch(&options.help));
  auto given = parse_flags(args, flags);
  po::notify(given.values);
  return options;
}

std::string usage() {
  return R"(usage: duet-sim [flags]
A simulated OpenAI-compatible LLM engine (vLLM's API and metric names).

  --host ADDR            listen address (default 127.0.0.1)
  --port N               listen port; 0 = ephemeral, printed as `event=listening port=N`
  --model NAME           served model name (default duet-sim)
  --ttft-ms MS           time to first token (default 0)
  --tpot-ms MS           time per output token after the first (default 0)
  --max-concurrency N    requests generating at once; more wait in FIFO order (0 = unlimited)
  --fail-rate P          share of inference requests answered 500 (0..1, default 0)
  --crash-after N        serve N inference requests; exit(1) when the next arrives
  --hang-after N         serve N inference requests; then answer nothing, /health included
  --crash-after-tokens N an answer breaks off after N tokens (see --crash-mode, --crash-rate)
  --crash-mode MODE      how: rst, fin, error-event-then-done, no-finish, abort or stall
                         (default rst)
  --crash-rate P         share of inference requests whose answer breaks off (default 1)
  --name NAME            x-duet-replica header value (default $DUET_REPLICA, else host:port)
  --threads N            I/O threads (default 1)
  --max-connections N    connections open at once; one more gets 503 (default 1024)
  --output-tokens N      tokens generated when max_tokens is absent (default 16)
  --max-model-len N      prompt + output token limit, as vLLM's (default 32768)
  --seed N               seed for fail-rate draws and ids (default: random)
  --log-level LEVEL      debug, info, warn or error (default info)
  --shutdown-timeout-ms MS  after SIGTERM, answers in progress get this long to finish; then
                         a stream ends with an error event and no [DONE] (default 5000)

The engine model (off by default; --ttft-ms and --tpot-ms are then not used):
  --profile NAME         simulate this device: ascend-910b, nvidia-h20, nvidia-h100, mlu370, cpu
  --block-size N         tokens per KV-cache block (default 16; Ascend deployments use 128)
  --kv-blocks N          KV-cache blocks (default: what the profile's memory holds)
  --prefix-caching on|off  automatic prefix caching (default on)
  --max-num-seqs N       sequences in one batch (default 256)
  --max-num-batched-tokens N  tokens computed in one step (default 8192)
  --time-scale F         run the engine's clock F times faster (default 1)
  --token-ids on|off     honour return_token_ids (default on; off: an engine without it)
)";
}

}  // namespace duet::sim
