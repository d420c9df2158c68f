#pragma once
// A node's name as duetd announces it and routers put it in x-duet-backend: a host name's
// characters only (letters, digits, '.', '-', '_'), 1 to 253 of them, so that it can go into
// a response header as it is.

#include <algorithm>
#include <cctype>
#include <string_view>

namespace duet {

inline bool valid_node_name(std::string_view name) {
  return !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace duet
