#pragma once
// Stop strings as vLLM's detokenizer applies them (vllm/v1/engine/detokenizer.py), over an
// answer's text as it comes: after each piece the text is searched for a stop string that
// ends in that piece (the strings in the request's order: the first found wins), once the
// answer has more than min_tokens tokens. The text is cut before it (after it with
// include_stop_str_in_output). The last max(len(stop)) - 1 bytes, which may be the start of
// one, are held back (never half a UTF-8 character) until the next piece shows they are not,
// or the answer ends. duet-sim answers by it; duet-router applies it to a stream that may
// move, so that one stop string can span engines (docs/migration.md). Pure; the memory it
// keeps is bounded by the longest stop string.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet {

// A request's `stop`, `include_stop_str_in_output` and `min_tokens`.
struct StopStrings {
  std::vector<std::string> strings;  // none: nothing is held back or cut
  bool include_in_output = false;
  uint64_t min_tokens = 0;
};

class StopStringFilter {
 public:
  explicit StopStringFilter(StopStrings spec = {});

  // The next piece of the answer, `tokens` tokens long; `last` when the answer ends with it.
  // Returns the text that may go out now: all that is left once the answer ends, by its
  // length or at a stop string. The view lives until the next call.
  std::string_view add(std::string_view text, uint64_t tokens, bool last = false);
  // Everything held back, for an answer that ends some other way.
  std::string_view flush() { return add({}, 0, true); }

  // A stop string ended the answer; add() must not be called again.
  bool stopped() const { return stop_index_.has_value(); }
  // The stop string that ended it.
  std::optional<std::string_view> stop_reason() const;
  uint64_t tokens() const { return tokens_; }

 private:
  StopStrings spec_;
  std::size_t window_ = 0;  // max(len(stop)) - 1: how far back a stop string may begin
  std::string tail_;        // the answer's last bytes: the window, and what is held back
  std::size_t unsent_ = 0;  // of tail_, the last bytes not returned yet
  std::string out_;
  uint64_t tokens_ = 0;
  std::optional<std::size_t> stop_index_;  // in spec_.strings
};

}  // namespace duet
