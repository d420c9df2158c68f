#include "duet/common/standard_flags.h"

#include <iostream>
#include <set>

namespace duet {

namespace po = boost::program_options;

namespace {

// The hand-written parsers let a later value replace an earlier one, and harnesses append to
// a default command line (`--port 0 ... --port 8001`); Boost would call that an error.
void keep_last_values(std::vector<po::option>& options, const po::options_description& flags) {
  std::vector<po::option> kept;
  std::set<std::string> seen;
  for (auto option = options.rbegin(); option != options.rend(); ++option) {
    const auto* flag = flags.find_nothrow(option->string_key, false);
    if (!flag || flag->semantic()->is_composing() || seen.insert(option->string_key).second)
      kept.push_back(std::move(*option));
  }
  options.assign(std::make_move_iterator(kept.rbegin()), std::make_move_iterator(kept.rend()));
}

}  // namespace

ParsedFlags parse_flags(const std::vector<std::string>& args, const po::options_description& flags,
                        Arguments arguments) {
  po::command_line_parser parser(args);
  // No guessing: `--po` is not taken for `--port`.
  parser.options(flags).style(po::command_line_style::default_style &
                              ~po::command_line_style::allow_guessing);
  if (arguments == Arguments::first_look) parser.allow_unregistered();
  ParsedFlags result;
  try {
    auto parsed = parser.run();
    std::erase_if(parsed.options, [&](const po::option& option) {
      if (!option.string_key.empty()) return option.unregistered;
      if (arguments == Arguments::flags_only)  // `duet-sim serve`: no such thing
        throw UsageError("unknown flag \"" + option.value.front() + "\" (see --help)");
      result.positional.push_back(option.value.front());
      return true;
    });
    keep_last_values(parsed.options, flags);
    po::store(parsed, result.values);
  } catch (const po::unknown_option& e) {
    auto name = e.get_option_name();
    throw UsageError("unknown flag \"" + name.substr(0, name.find('=')) + "\" (see --help)");
  } catch (const po::invalid_command_line_syntax& e) {
    if (e.kind() == po::invalid_command_line_syntax::missing_parameter)
      throw UsageError(e.get_option_name() + ": missing value");
    throw UsageError(e.what());
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return result;
}

std::optional<int> answer_standard_flags(int argc, char** argv, std::string_view program,
                                         std::string_view usage) {
  if (argc != 2) return std::nullopt;  // elsewhere these are the program's own flags, or wrong
  std::string_view arg = argv[1];
  if (arg == "--version") {
    std::cout << program << " " << DUET_VERSION << "\n";
    return 0;
  }
  if (arg == "--help" || arg == "-h") {
    std::cout << usage;
    return 0;
  }
  return std::nullopt;
}

}  // namespace duet
