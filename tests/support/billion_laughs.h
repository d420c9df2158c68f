#pragma once
// The classic YAML "billion laughs" for tests of the manifest budget: 9 levels of 9 aliases
// each, about 300 bytes that expand to 10^9 strings. The budget stops it on line 6.

#include <string>

namespace duet::test {

inline std::string billion_laughs_yaml() {
  std::string text = "a0: &a0 [lol]\n";
  for (int i = 1; i <= 9; ++i) {
    auto use = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + use;
    for (int j = 1; j < 9; ++j) text += ", " + use;
    text += "]\n";
  }
  return text;
}

}  // namespace duet::test
