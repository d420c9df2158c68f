#pragma once
// How every duet program reads its command line (Boost.Program_options: `--flag value` or
// `--flag=value`, errors that name the flag), and what they all answer alike: `--version`
// prints `NAME VERSION`, `--help` (or `-h`) the usage, both on stdout with exit status 0.

#include <boost/program_options.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duet {

// A command line that does not parse; the message names the flag. Every program exits 2.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// What parse_flags makes of arguments that are not flags it knows.
enum class Arguments {
  flags_only,  // an argument that is not a flag is an error
  positional,  // such arguments come back in order
  first_look,  // as positional, and unknown flags are skipped (to find a command word)
};

struct ParsedFlags {
  // As given, not yet notified: boost::program_options::notify() stores the values and runs
  // the notifiers, so a caller can read a config file between the two.
  boost::program_options::variables_map values;
  std::vector<std::string> positional;
};

// Parses `args` (without the program name). A flag given twice: the later value wins, unless
// the flag is composing() (repeatable: every value is kept). Throws UsageError:
// `unknown flag "--x" (see --help)`, `--x: missing value`, or Boost's message naming the flag.
ParsedFlags parse_flags(const std::vector<std::string>& args,
                        const boost::program_options::options_description& flags,
                        Arguments arguments = Arguments::flags_only);

// The exit status when the only argument is --version, --help or -h (after printing);
// nullopt otherwise.
std::optional<int> answer_standard_flags(int argc, char** argv, std::string_view program,
                                         std::string_view usage);

}  // namespace duet
