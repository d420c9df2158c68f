#pragma once
// duet-router's flags: `--config FILE` loads the YAML file, then the other flags override
// what it says (a repeated `--listen` or `--source` replaces the file's whole list).

#include <string>
#include <vector>

#include "duet/common/standard_flags.h"
#include "router/config.h"

namespace duet::router {

struct CommandLine {
  RouterConfig config;
  bool check_config = false;  // validate, print a summary and exit
  bool help = false;
  std::string log_level = "info";
};

// Parses argv without the program name. Throws UsageError (a flag problem: unknown flag,
// missing value; main exits 2 for it as for a ConfigError) or ConfigError.
CommandLine parse_command_line(const std::vector<std::string>& args);

// The text `--help` prints.
std::string usage();

}  // namespace duet::router
