#include "duet/common/stop_strings.h"

#include <algorithm>

namespace duet {

namespace {

bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

StopStringFilter::StopStringFilter(StopStrings spec) : spec_(std::move(spec)) {
  for (const auto& s : spec_.strings) window_ = std::max(window_, s.empty() ? 0 : s.size() - 1);
}

std::string_view StopStringFilter::add(std::string_view text, uint64_t tokens, bool last) {
  out_.clear();
  if (stopped()) return out_;
  std::size_t before = tail_.size();
  tail_.append(text);
  unsent_ += text.size();
  tokens_ += tokens;
  std::size_t unsent_from = tail_.size() - unsent_;
  if (!text.empty() && tokens_ > spec_.min_tokens) {  // vLLM: once more than min_tokens came
    for (std::size_t i = 0; i < spec_.strings.size(); ++i) {
      const std::string& stop = spec_.strings[i];
      if (stop.empty()) continue;
      // Only one that ends in the new text: the text before was searched already.
      std::size_t from = before + 1 > stop.size() ? before + 1 - stop.size() : 0;
      std::size_t at = tail_.find(stop, from);
      if (at == std::string::npos) continue;
      std::size_t end = spec_.include_in_output ? at + stop.size() : at;
      if (end > unsent_from) out_.assign(tail_, unsent_from, end - unsent_from);
      stop_index_ = i;
      tail_.clear();
      unsent_ = 0;
      return out_;
    }
  }
  // What may begin a stop string waits (not with include_stop_str_in_output: it goes out
  // whole anyway), unless the answer ends here.
  std::size_t held = last || spec_.include_in_output ? 0 : std::min(unsent_, window_);
  std::size_t until = tail_.size() - held;
  while (until > unsent_from && until < tail_.size() && utf8_continuation(tail_[until])) --until;
  out_.assign(tail_, unsent_from, until - unsent_from);
  unsent_ -= out_.size();
  std::size_t keep = std::max(window_, unsent_);
  if (tail_.size() > keep) tail_.erase(0, tail_.size() - keep);
  return out_;
}

std::optional<std::string_view> StopStringFilter::stop_reason() const {
  if (!stop_index_) return std::nullopt;
  return spec_.strings[*stop_index_];
}

}  // namespace duet
