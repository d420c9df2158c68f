#include "duet/common/standard_flags.h"

#include <iostream>

namespace duet {

std::optional<int> answer_standard_flags(int argc, char** argv, std::string_view program,
                                         std::string_view usage) {
  if (argc != 2) return std::nullopt;
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
