#pragma once
// What every duet program answers alike, before reading its own flags: `--version` prints
// `NAME VERSION`, `--help` (or `-h`) the usage, both on stdout with exit status 0.

#include <optional>
#include <string_view>

namespace duet {

// The exit status when the only argument is --version, --help or -h (after printing);
// nullopt otherwise.
std::optional<int> answer_standard_flags(int argc, char** argv, std::string_view program,
                                         std::string_view usage);

}  // namespace duet
