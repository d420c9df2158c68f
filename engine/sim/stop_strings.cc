#include "sim/stop_strings.h"

#include <algorithm>

namespace duet::sim {

namespace {

bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

OutputText::OutputText(StopSpec spec) : spec_(std::move(spec)) {
  if (spec_.include_in_output) return;
  for (const auto& s : spec_.strings) holdback_ = std::max(holdback_, s.size() - 1);
}

std::string_view OutputText::add(std::string_view token_text, bool last) {
  text_.append(token_text);
  ++tokens_;
  // vLLM looks for stop strings only once the answer has more than min_tokens tokens.
  if (!spec_.strings.empty() && tokens_ > spec_.min_tokens) check(token_text.size());
  std::size_t until = last || stopped() ? text_.size() : releasable();
  if (until <= sent_) return {};
  std::string_view delta = std::string_view(text_).substr(sent_, until - sent_);
  sent_ = until;
  return delta;
}

// vLLM's StopChecker.check_stop_strings: the strings in the request's order, each searched
// only where it would end in the new text (the text before was searched already).
void OutputText::check(std::size_t new_bytes) {
  if (new_bytes == 0) return;
  for (std::size_t i = 0; i < spec_.strings.size(); ++i) {
    const std::string& stop = spec_.strings[i];
    std::size_t reach = new_bytes + stop.size() - 1;
    std::size_t from = text_.size() > reach ? text_.size() - reach : 0;
    std::size_t at = text_.find(stop, from);
    if (at == std::string::npos) continue;
    std::size_t cut = spec_.include_in_output ? at + stop.size() : at;
    // Never below what a stream already has; the holdback keeps a match from reaching it.
    text_.resize(std::max(std::min(cut, text_.size()), sent_));
    stop_index_ = i;
    return;
  }
}

std::optional<std::string_view> OutputText::stop_reason() const {
  if (!stop_index_) return std::nullopt;
  return spec_.strings[*stop_index_];
}

std::size_t OutputText::releasable() const {
  if (text_.size() <= holdback_) return 0;
  std::size_t until = text_.size() - holdback_;
  while (until > sent_ && utf8_continuation(text_[until])) --until;
  return until;
}

}  // namespace duet::sim
