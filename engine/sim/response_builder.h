#pragma once
// The JSON duet-sim answers with, shaped like vLLM's: a whole `text_completion` or
// `chat.completion`, or the SSE chunks of a stream, each with the simulated tokens and usage.
// Built by appending strings: this is on the benchmark path, and every piece but the
// model name (escaped once) is plain ASCII.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/request_parser.h"

namespace duet::sim {

struct Usage {
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  // Prompt tokens the prefix cache held (usage.prompt_tokens_details.cached_tokens, as vLLM
  // reports it); only with the engine model.
  std::optional<uint64_t> cached_tokens = std::nullopt;
};

// How a generation ends: its length, why it stopped and what it used.
struct Ending {
  uint64_t tokens = 0;
  std::string_view finish_reason;  // "length" or "stop"
  Usage usage;
  // The stop string that ended the answer (vLLM's stop_reason); null when none did.
  std::optional<std::string_view> stop_reason = std::nullopt;
};

// Where a stream reports usage: in its closing chunk (duet-sim's default, no stream_options),
// in a chunk of its own after the closing one with empty `choices` (vLLM and OpenAI with
// stream_options.include_usage), or nowhere (include_usage false).
enum class StreamUsage { closing_chunk, own_chunk, none };

// Where `request`'s stream reports usage (its stream_options.include_usage, as vLLM reads it).
StreamUsage stream_usage(const InferenceRequest& request);

// Seconds since the epoch: the `created` field of answers and models.
int64_t unix_seconds();

// The text of simulated token `index`: a short word such as " tok3".
std::string token_text(uint64_t index);

// The answer to one request. `model_json` is the model name already as a JSON string; it
// must outlive the builder (the server holds it).
class ResponseBuilder {
 public:
  ResponseBuilder(Api api, std::string id, int64_t created, std::string_view model_json,
                  StreamUsage usage = StreamUsage::closing_chunk);

  // The body of a non-streamed answer holding every token.
  std::string whole(const Ending& ending) const;
  // The same with the answer's `text` (the engine model's words; plain ASCII).
  std::string whole_text(std::string_view text, const Ending& ending) const;
  // SSE events for tokens [from, to); when `to` is the last, also the stream's end
  // (closing_events).
  std::string sse_events(uint64_t from, uint64_t to, const Ending& ending) const;
  // The end of a stream: the closing chunk (finish_reason; usage with closing_chunk), the
  // usage chunk (own_chunk) and `data: [DONE]`, as SSE events.
  std::string closing_events(const Ending& ending) const;
  // The JSON of one streamed chunk carrying token `index`.
  std::string token_chunk(uint64_t index) const;
  // The JSON of one streamed chunk carrying `text`; the first one names the role (chat).
  // With token ids returned (return_token_ids), it carries `token_id` in `token_ids`, and the
  // first also the prompt's ids in `prompt_token_ids`: in the choice for a completion, at the
  // top for a chat, as vLLM puts them.
  std::string text_chunk(std::string_view text, bool first, std::optional<uint32_t> token_id = {}) const;
  // Chunks from now on return token ids; `prompt_ids` go in the first.
  void return_token_ids(std::vector<uint32_t> prompt_ids) { prompt_ids_ = std::move(prompt_ids); }
  // Whole answers and closing chunks say `stop_reason` (a request with stop strings; without,
  // answers stay as they were).
  void report_stop_reason() { report_stop_reason_ = true; }
  // The text of token i is texts[i] from now on instead of token_text(i): the latency model's
  // answer with a request's stop strings applied (what a stream may send with each token).
  void token_texts(std::vector<std::string> texts) { token_texts_ = std::move(texts); }
  // The JSON of the closing chunk: no text, finish_reason, and usage with closing_chunk.
  std::string final_chunk(const Ending& ending) const;
  // The JSON of the usage chunk: `choices` empty, `usage` (StreamUsage::own_chunk).
  std::string usage_chunk(const Ending& ending) const;

 private:
  std::string head(std::string_view object) const;
  std::string envelope(std::string_view object) const;  // id, object, created, model
  std::string_view chunk_object() const;
  std::string_view text_of(uint64_t index, std::string& scratch) const;
  void append_stop_reason(std::string& out, const Ending& ending) const;

  Api api_;
  std::string id_;
  int64_t created_;
  std::string_view model_json_;
  StreamUsage stream_usage_;
  std::optional<std::vector<uint32_t>> prompt_ids_;  // set: token ids are returned
  bool report_stop_reason_ = false;
  std::optional<std::vector<std::string>> token_texts_;
};

// The id of an answer: "cmpl-..." or "chatcmpl-..." followed by 16 hex digits of `value`.
std::string response_id(Api api, uint64_t value);

}  // namespace duet::sim
