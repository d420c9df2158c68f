#pragma once
// An answer's text as duet-sim sends it, with the request's stop strings applied as vLLM
// applies them (duet/common/stop_strings.h, which duet-router uses across a migration's seam):
// one token at a time, the text that may go out now, and the answer's text so far.

#include <string>
#include <string_view>

#include "duet/common/stop_strings.h"

namespace duet::sim {

using StopSpec = duet::StopStrings;

class OutputText {
 public:
  explicit OutputText(StopSpec spec) : filter_(std::move(spec)) {}

  // The next token's text; `last` when the answer ends with it (its length). Returns the text
  // a stream sends with this token. The view lives until the next add().
  std::string_view add(std::string_view token_text, bool last = false) {
    std::string_view out = filter_.add(token_text, 1, last);
    text_.append(out);
    return out;
  }

  bool stopped() const { return filter_.stopped(); }
  std::optional<std::string_view> stop_reason() const { return filter_.stop_reason(); }
  // What went out so far: once the answer ended, all of it, cut at the stop string.
  const std::string& text() const { return text_; }
  uint64_t tokens() const { return filter_.tokens(); }

 private:
  StopStringFilter filter_;
  std::string text_;
};

}  // namespace duet::sim
