#pragma once
// Stop strings as vLLM's detokenizer applies them (vllm/v1/engine/detokenizer.py): after each
// token the answer's text is searched for a stop string ending in that token's text; the first
// found ends the answer, its text cut before the string (after it with
// include_stop_str_in_output). Until min_tokens tokens are out nothing is searched. A stream
// never sends the last max(len(stop)) - 1 bytes of the text so far, which could be the start of
// a stop string; they go out with the answer's last token. Pure: no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::sim {

// A request's `stop`, `include_stop_str_in_output` and `min_tokens`.
struct StopSpec {
  std::vector<std::string> strings;  // none: the answer runs to its length
  bool include_in_output = false;
  uint64_t min_tokens = 0;
};

// The text of one answer as its tokens come, with the request's stop strings applied.
class OutputText {
 public:
  explicit OutputText(StopSpec spec);

  // The next token's text; `last` when the answer ends with it (its length). Returns the text
  // a stream sends with this token: what is no longer held back (everything once the answer
  // ends, by its length or a stop string). The view lives until the next add().
  std::string_view add(std::string_view token_text, bool last = false);

  // A stop string ended the answer at the last add(); then add() must not be called again.
  bool stopped() const { return stop_index_.has_value(); }
  // The stop string that ended the answer.
  std::optional<std::string_view> stop_reason() const;
  // The answer's text so far, cut at the stop string once one matched.
  const std::string& text() const { return text_; }
  uint64_t tokens() const { return tokens_; }

 private:
  // Searches the text for a stop string that ends in the last `new_bytes` bytes.
  void check(std::size_t new_bytes);
  // Where the text a stream may have ends now: the held-back bytes left out, never inside a
  // UTF-8 character.
  std::size_t releasable() const;

  StopSpec spec_;
  std::size_t holdback_ = 0;  // max(len(stop)) - 1 bytes, none with include_in_output
  std::string text_;
  std::size_t sent_ = 0;  // bytes add() returned so far
  uint64_t tokens_ = 0;
  std::optional<std::size_t> stop_index_;  // in spec_.strings
};

}  // namespace duet::sim
