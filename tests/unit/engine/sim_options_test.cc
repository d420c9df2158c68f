#include "sim/sim_options.h"

#include <gtest/gtest.h>

namespace duet::sim {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> no_env(std::string_view) { return std::nullopt; }

SimOptions parse(const std::vector<std::string>& args) { return parse_options(args, no_env); }

// The message of the UsageError that `args` raise.
std::string error_of(const std::vector<std::string>& args) {
  try {
    parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SimOptions, DefaultsMatchTheDocumentedOnes) {
  auto o = parse({});
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 0);
  EXPECT_EQ(o.model, "duet-sim");
  EXPECT_EQ(o.ttft, 0us);
  EXPECT_EQ(o.tpot, 0us);
  EXPECT_EQ(o.max_concurrency, 0u);
  EXPECT_EQ(o.fail_rate, 0.0);
  EXPECT_FALSE(o.crash_after);
  EXPECT_FALSE(o.hang_after);
  EXPECT_EQ(o.name, "");
  EXPECT_EQ(o.threads, 1u);
  EXPECT_EQ(o.max_connections, 1024u);
  EXPECT_EQ(o.output_tokens, 16u);
  EXPECT_FALSE(o.seed);
  EXPECT_FALSE(o.help);
}

TEST(SimOptions, ReadsEveryFlagInBothForms) {
  auto o = parse({"--host",
                  "0.0.0.0",
                  "--port=8001",
                  "--model",
                  "r1",
                  "--ttft-ms",
                  "1.5",
                  "--tpot-ms=20",
                  "--max-concurrency",
                  "4",
                  "--fail-rate",
                  "0.25",
                  "--crash-after",
                  "0",
                  "--hang-after=7",
                  "--name",
                  "r1-0",
                  "--threads",
                  "3",
                  "--output-tokens",
                  "5",
                  "--max-model-len",
                  "4096",
                  "--seed",
                  "42",
                  "--log-level",
                  "debug"});
  EXPECT_EQ(o.host, "0.0.0.0");
  EXPECT_EQ(o.port, 8001);
  EXPECT_EQ(o.model, "r1");
  EXPECT_EQ(o.ttft, 1500us);
  EXPECT_EQ(o.tpot, 20ms);
  EXPECT_EQ(o.max_concurrency, 4u);
  EXPECT_EQ(o.fail_rate, 0.25);
  EXPECT_EQ(o.crash_after, 0u);
  EXPECT_EQ(o.hang_after, 7u);
  EXPECT_EQ(o.name, "r1-0");
  EXPECT_EQ(o.threads, 3u);
  EXPECT_EQ(o.output_tokens, 5u);
  EXPECT_EQ(o.max_model_len, 4096u);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.log_level, "debug");
}

TEST(SimOptions, NameDefaultsToDuetReplicaAndTheFlagWins) {
  auto env = [](std::string_view key) -> std::optional<std::string> {
    if (key == "DUET_REPLICA") return "chat-small-1";
    return std::nullopt;
  };
  EXPECT_EQ(parse_options({}, env).name, "chat-small-1");
  EXPECT_EQ(parse_options({"--name", "mine"}, env).name, "mine");
}

TEST(SimOptions, HelpIsAFlagNotAnError) {
  EXPECT_TRUE(parse({"--help"}).help);
  EXPECT_NE(usage().find("--crash-after"), std::string::npos);
}

TEST(SimOptions, UnknownFlagsAreNamed) {
  EXPECT_EQ(error_of({"--prot", "1"}), "unknown flag \"--prot\" (see --help)");
  EXPECT_EQ(error_of({"serve"}), "unknown flag \"serve\" (see --help)");
  EXPECT_EQ(error_of({"--ttft=5"}), "unknown flag \"--ttft\" (see --help)");
}

TEST(SimOptions, BadNumbersNameTheFlagAndTheValue) {
  EXPECT_EQ(error_of({"--port", "abc"}),
            "--port: expected an integer from 0 to 65535, got \"abc\"");
  EXPECT_EQ(error_of({"--port", "65536"}),
            "--port: expected an integer from 0 to 65535, got \"65536\"");
  EXPECT_EQ(error_of({"--threads", "0"}),
            "--threads: expected an integer from 1 to 256, got \"0\"");
  EXPECT_EQ(error_of({"--crash-after", "-1"}),
            "--crash-after: expected an integer >= 0, got \"-1\"");
  EXPECT_EQ(error_of({"--max-concurrency", "2x"}),
            "--max-concurrency: expected an integer from 0 to 1000000, got \"2x\"");
  EXPECT_EQ(error_of({"--fail-rate", "1.5"}),
            "--fail-rate: expected a share from 0 to 1, got \"1.5\"");
  EXPECT_EQ(error_of({"--fail-rate", "nan"}),
            "--fail-rate: expected a share from 0 to 1, got \"nan\"");
  EXPECT_EQ(error_of({"--ttft-ms", "-3"}),
            "--ttft-ms: expected milliseconds from 0 to 3600000, got \"-3\"");
  EXPECT_EQ(error_of({"--tpot-ms", ""}),
            "--tpot-ms: expected milliseconds from 0 to 3600000, got \"\"");
  EXPECT_EQ(error_of({"--output-tokens", "0"}),
            "--output-tokens: expected an integer from 1 to 1000000, got \"0\"");
}

TEST(SimOptions, AnswerCrashFlags) {
  auto off = parse({});
  EXPECT_FALSE(off.answer_crash.after_tokens);
  EXPECT_EQ(off.answer_crash.mode, CrashMode::rst);
  EXPECT_EQ(off.answer_crash.rate, 1.0);
  EXPECT_TRUE(off.token_ids);
  auto on = parse({"--crash-after-tokens", "7", "--crash-mode=no-finish", "--crash-rate", "0.25",
                   "--token-ids", "off"});
  EXPECT_EQ(on.answer_crash.after_tokens, 7u);
  EXPECT_EQ(on.answer_crash.mode, CrashMode::no_finish);
  EXPECT_EQ(on.answer_crash.rate, 0.25);
  EXPECT_FALSE(on.token_ids);
  EXPECT_EQ(error_of({"--crash-mode", "explode"}),
            "--crash-mode: expected rst, fin, error-event-then-done, no-finish, abort or stall, got \"explode\"");
  EXPECT_EQ(error_of({"--crash-rate", "2"}), "--crash-rate: expected a share from 0 to 1, got \"2\"");
  EXPECT_EQ(error_of({"--token-ids", "yes"}), "--token-ids: expected on or off, got \"yes\"");
}

TEST(SimOptions, OtherBadValuesAreNamed) {
  EXPECT_EQ(error_of({"--port"}), "--port: missing value");
  EXPECT_EQ(error_of({"--model", ""}), "--model: expected a model name, got \"\"");
  EXPECT_EQ(error_of({"--log-level", "loud"}),
            "--log-level: expected debug, info, warn or error, got \"loud\"");
}

}  // namespace
}  // namespace duet::sim

namespace duet::sim {
namespace {

TEST(SimOptions, EngineModelFlags) {
  auto off = parse({});
  EXPECT_TRUE(off.profile.empty());
  EXPECT_EQ(off.block_size, 16u);
  EXPECT_EQ(off.kv_blocks, 0u);
  EXPECT_TRUE(off.prefix_caching);
  EXPECT_EQ(off.max_num_seqs, 256u);
  EXPECT_EQ(off.max_num_batched_tokens, 8192u);
  EXPECT_EQ(off.time_scale, 1.0);
  auto on = parse({"--profile", "ascend-910b", "--block-size=128", "--kv-blocks", "900", "--prefix-caching",
                   "off", "--max-num-seqs", "8", "--max-num-batched-tokens", "2048", "--time-scale", "12.5"});
  EXPECT_EQ(on.profile, "ascend-910b");
  EXPECT_EQ(on.block_size, 128u);
  EXPECT_EQ(on.kv_blocks, 900u);
  EXPECT_FALSE(on.prefix_caching);
  EXPECT_EQ(on.max_num_seqs, 8u);
  EXPECT_EQ(on.max_num_batched_tokens, 2048u);
  EXPECT_EQ(on.time_scale, 12.5);
  EXPECT_EQ(error_of({"--prefix-caching", "yes"}), "--prefix-caching: expected on or off, got \"yes\"");
  EXPECT_EQ(error_of({"--block-size", "0"}), "--block-size: expected an integer from 1 to 1024, got \"0\"");
  EXPECT_EQ(error_of({"--time-scale", "0"}), "--time-scale: expected a factor from 0.001 to 1000000, got \"0\"");
}

}  // namespace
}  // namespace duet::sim
