#include "router/command_line.h"

#include <charconv>
#include <optional>

namespace duet::router {

namespace {

// Flags as given, before the config file is read, so that flags override it in any order.
struct Flags {
  std::optional<std::string> config_file;
  std::vector<std::string> listen;
  std::vector<std::string> sources;
  std::optional<std::string> admin;
  std::optional<std::string> threads;
};

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

void apply(const Flags& flags, CommandLine& line) {
  RouterConfig& config = line.config;
  if (flags.config_file) config = load_config(*flags.config_file);
  if (!flags.listen.empty()) {
    config.listen.clear();
    for (const auto& text : flags.listen) {
      ListenConfig listen{parse_flag_address("--listen", text), std::nullopt};
      if (listen.address.kind != Address::Kind::tcp)
        throw UsageError("--listen: the proxy listens on TCP only, got \"" + text + "\"");
      config.listen.push_back(std::move(listen));
    }
  }
  if (!flags.sources.empty()) {
    config.sources.clear();
    for (const auto& text : flags.sources) config.sources.push_back(parse_source(text, "--source"));
  }
  if (flags.admin) config.admin = parse_flag_address("--admin", *flags.admin);
  if (flags.threads) config.threads = parse_threads(*flags.threads);
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine line;
  Flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) throw UsageError(name + ": missing value");
      return args[++i];
    };
    if (name == "--config")
      flags.config_file = value();
    else if (name == "--listen")
      flags.listen.push_back(value());
    else if (name == "--source")
      flags.sources.push_back(value());
    else if (name == "--admin")
      flags.admin = value();
    else if (name == "--threads")
      flags.threads = value();
    else if (name == "--log-level")
      line.log_level = value();
    else if (name == "--check-config")
      line.check_config = true;
    else if (name == "--help" || name == "-h")
      line.help = true;
    else
      throw UsageError("unknown flag \"" + name + "\" (see --help)");
  }
  if (!line.help) apply(flags, line);
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
