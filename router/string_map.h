#pragma once
// A hash map keyed by std::string that is searched with a string_view, so that looking up a
// token, a subject or a label set on the request path allocates nothing.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace duet::router {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <class Value, class Hash = StringHash>
using StringMap = std::unordered_map<std::string, Value, Hash, std::equal_to<>>;

}  // namespace duet::router
