#pragma once
// A request body, read only when a routing decision first needs a field of it (SPEC §5
// step 4): the model, the prompt's token estimate and max_tokens. simdjson validates and
// indexes the JSON at gigabytes a second into one flat buffer; nlohmann's tree (a node and
// an allocation per value) took 20 to 40 times the 2 µs a decision may take on 4 KB.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duet::router {

class RequestBody {
 public:
  // `with_prefix_chunks`: prefix_chunks() will be asked for (the table has a prefix policy),
  // so the one scan collects them too.
  explicit RequestBody(std::string_view text, bool with_prefix_chunks = false)
      : text_(text), want_chunks_(with_prefix_chunks) {}

  // The "model" field; empty when absent or when the body is not JSON.
  std::string_view model();
  // Prompt tokens (as duet::estimate_prompt_tokens counts them) plus max_tokens (or
  // max_completion_tokens) when given as a non-negative integer.
  uint64_t tokens();
  // The body was needed (model() or tokens()) and is not JSON, or not UTF-8, which JSON
  // requires. Scheduling's read of it (prefix_chunks) alone never makes it malformed: a
  // backend route passes any body on, as it did before it had a scheduling policy.
  bool malformed() const { return needed_ && malformed_; }
  // The prompt's text (a chat's roles and contents in order) as prefix chunks
  // (prefix_index.h), for prefix-affinity scheduling; empty for a prompt under 256 bytes.
  const std::vector<uint64_t>& prefix_chunks();
  // The prompt's tokens alone (as tokens() counts them), for duet's predicted TTFT; like
  // prefix_chunks(), never makes the body malformed.
  uint64_t prompt_tokens();

 private:
  void scan();

  std::string_view text_;
  bool scanned_ = false;
  bool needed_ = false;
  bool malformed_ = false;
  std::string model_;
  uint64_t prompt_tokens_ = 0;
  uint64_t max_tokens_ = 0;
  bool want_chunks_ = false;
  std::vector<uint64_t> chunks_;
};

}  // namespace duet::router
