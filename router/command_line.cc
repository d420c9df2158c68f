#include "router/command_line.h"

#include <charconv>

namespace duet::router {

namespace {

namespace po = boost::program_options;

unsigned parse_threads(const std::string& text) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n > 1024)
    throw UsageError("--threads: expected an integer from 0 to 1024, got \"" + text + "\"");
  return n;
}

Address parse_flag_address(const std::string& flag, const std::string& text) {
  try {
    return Address::parse(text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(flag + ": " + e.what());
  }
}

// The config file first, whatever the flags' order, so that the other flags override it.
void apply_flags(const po::variables_map& flags, CommandLine& line) {
  auto given = [&](const char* name) { return flags.count(name) != 0; };
  auto text = [&](const char* name) { return flags[name].as<std::string>(); };
  auto list = [&](const char* name) { return flags[name].as<std::vector<std::string>>(); };
  RouterConfig& config = line.config;
  if (given("config")) config = load_config(text("config"));
  if (given("listen")) {
    config.listen.clear();
    for (const auto& address : list("listen")) {
      ListenConfig listen{parse_flag_address("--listen", address), std::nullopt};
      if (listen.address.kind != Address::Kind::tcp)
        throw UsageError("--listen: the proxy listens on TCP only, got \"" + address + "\"");
      config.listen.push_back(std::move(listen));
    }
  }
  if (given("source")) {
    config.sources.clear();
    for (const auto& source : list("source"))
      config.sources.push_back(parse_source(source, "--source"));
  }
  if (given("admin")) config.admin = parse_flag_address("--admin", text("admin"));
  if (given("threads")) config.threads = parse_threads(text("threads"));
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine line;
  po::options_description flags;
  // clang-format off
  flags.add_options()
      ("config", po::value<std::string>())
      ("listen", po::value<std::vector<std::string>>()->composing())
      ("source", po::value<std::vector<std::string>>()->composing())
      ("admin", po::value<std::string>())
      ("threads", po::value<std::string>())
      ("log-level", po::value(&line.log_level))
      ("check-config", po::bool_switch(&line.check_config))
      ("help,h", po::bool_switch(&line.help));
  // clang-format on
  auto given = parse_flags(args, flags);
  po::notify(given.values);
  if (!line.help) apply_flags(given.values, line);
  return line;
}

std::string usage() {
  return "usage: duet-router [--config FILE] [--listen ADDR]... [--source ADDR]...\n"
         "                   [--admin ADDR] [--threads N] [--log-level LEVEL] [--check-config]\n"
         "\n"
         "  --config FILE     YAML configuration (listen, admin, threads, sources, limits, ...)\n"
         "  --listen ADDR     proxy listener HOST:PORT; repeatable; replaces the file's list\n"
         "  --source ADDR     duetd node API (unix:PATH or http://HOST:PORT); repeatable;\n"
         "                    replaces the file's list\n"
         "  --admin ADDR      admin listener (/healthz /readyz /config /metrics)\n"
         "  --threads N       worker threads; 0 = one per core\n"
         "  --log-level L     debug, info, warn or error\n"
         "  --check-config    validate the configuration, load its TLS and JWT key files,\n"
         "                    and exit (0 valid, 2 invalid)\n"
         "\n"
         "SIGHUP reloads TLS certificates and keys and JWT keys (as does a change of their files).\n";
}

}  // namespace duet::router
