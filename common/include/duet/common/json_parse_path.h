#pragma once
// Where a JSON parse is, as a field path (`messages[2].content`), so that a failure the
// parser reports without a place (out_of_range 406 for a number like 1e309) can name the
// field. Fed from a parser callback; keeps one entry per open container.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace duet {

class JsonParsePath {
 public:
  using Event = nlohmann::json::parse_event_t;

  // Call with each event of a nlohmann::json::parser_callback_t.
  void observe(Event event, const nlohmann::json& parsed) {
    bool begins = event == Event::value || event == Event::object_start || event == Event::array_start;
    if (begins && !levels_.empty() && levels_.back().array) ++levels_.back().begun;
    if (event == Event::object_start || event == Event::array_start)
      levels_.push_back({event == Event::array_start, 0, {}});
    else if (event == Event::object_end || event == Event::array_end)
      levels_.pop_back();
    else if (event == Event::key && !levels_.empty())
      levels_.back().key = parsed.get<std::string>();
  }

  // The field being read: the last key of each object, the element of each array (the one
  // begun, or in the innermost array the next one, whose value failed before it began).
  std::string path() const {
    std::string out;
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      const Level& level = levels_[i];
      if (level.array) {
        std::size_t index = i + 1 == levels_.size() || level.begun == 0 ? level.begun : level.begun - 1;
        out += "[" + std::to_string(index) + "]";
      } else if (!level.key.empty()) {
        out += (out.empty() ? "" : ".") + level.key;
      }
    }
    return out;
  }

 private:
  struct Level {
    bool array = false;
    std::size_t begun = 0;  // elements begun so far (arrays)
    std::string key;        // last key read (objects)
  };
  std::vector<Level> levels_;
};

// A nlohmann exception's message without its "[json.exception.out_of_range.406] " prefix.
inline std::string json_error_text(const nlohmann::json::exception& e) {
  std::string text = e.what();
  auto end = text.find("] ");
  return text.starts_with("[json.exception.") && end != std::string::npos ? text.substr(end + 2) : text;
}

}  // namespace duet
