#pragma once
// The client's side of a stream that may move to another engine in the middle of its answer
// (mid-stream migration, issue 20; ../shared/design/midstream-migration.md, section B). It
// reads the engine's SSE events, passes on to the client whole events with the engine's
// token-id fields taken out, and keeps what a continuation needs: the prompt's token ids and
// every output token id whose text the client has. When the engine's stream fails (cut off,
// an error event, `[DONE]` with no finish_reason, finish_reason "abort"), it writes the body
// of the exact continuation for another engine's /v1/completions (prompt = prompt ids +
// output ids), and splices that engine's events in as if one engine had answered: the first
// answer's id, created and model; chat deltas rebuilt from completion chunks; no second role
// delta; usage summed; one `[DONE]`, only once the answer is whole.
//
// A pure state machine: no I/O, no clock (a stall is the relay's idle timeout). UpstreamRelay
// feeds it the engines' body bytes and sends what it returns (docs/migration.md).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "duet/common/line_splitter.h"

namespace duet::router {

enum class StreamApi { completions, chat };

// Why an engine's stream did not make a whole answer.
enum class StreamFailure {
  none,
  cut,          // the body ended (EOF, reset, timeout) before `[DONE]`
  error_event,  // an in-band `{"error": ...}` event (vLLM sends `[DONE]` after it)
  no_finish,    // `[DONE]` without a finish_reason
  abort,        // finish_reason "abort" (SGLang)
  garbled,      // an event that is not JSON
};
std::string_view to_string(StreamFailure failure);

class StreamSplicer {
 public:
  struct Limits {
    unsigned max_migrations = 2;
    std::size_t max_tokens = 32768;  // prompt + output ids kept for one stream
  };

  // A splicer for the client's `request` (its JSON body) on `api`, or why that request cannot
  // move (not streamed, n > 1, guided decoding, a required tool call, penalties, logprobs...).
  static std::variant<StreamSplicer, std::string> begin(StreamApi api, const nlohmann::json& request,
                                                        Limits limits);

  // A stream that cannot move (`why`), on a Route with migration on: its events pass as the
  // engine sent them (its usage too), whole events only, so that a failure ends with the
  // error event saying why the stream did not move instead of a cut in the middle of a line.
  static StreamSplicer relay_only(StreamApi api, const nlohmann::json& request, std::string why);

  // The body for the first engine: the client's, asking for token ids and usage.
  std::string first_body() const;

  // The next bytes of the engine's SSE body (de-chunked). Returns the events the client gets
  // now. Once the stream failed, the rest of this engine's bytes are ignored.
  std::string feed(std::string_view bytes);

  // The engine's body ended (its last chunk, EOF, a reset, a timeout: all the same here).
  // Returns the failure, or none when the answer is whole: then the client's end (usage,
  // `[DONE]`) was returned by feed() or comes from close_whole().
  StreamFailure end();

  // What to do after a failure: send `body` to another engine (the client's own path when no
  // text went out yet: the request again; else /v1/completions), or end the client's stream
  // with `events` (a whole answer's end when nothing is left to generate;
  // else an error event in OpenAI's shape and no `[DONE]`, `why` saying why it did not move).
  struct Resume {
    std::string body;
    bool same_path = false;  // the client's own request again, to its path; else /v1/completions
  };
  struct Close {
    std::string events;
    bool whole = false;
    std::string why;
  };
  std::variant<Resume, Close> after_failure();

  // The end of an answer whose finish_reason came but whose engine ended before `[DONE]`:
  // usage (when the client asked) and `[DONE]`.
  std::string close_whole();
  // The client's end when the stream cannot move (no engine left, a limit): an error event in
  // OpenAI's shape naming the failure and `why`, and no `[DONE]`.
  std::string give_up(std::string_view why);

  unsigned migrations() const { return migrations_; }
  std::size_t output_tokens() const { return output_ids_.size(); }
  // Tokens the latest continuation makes its engine compute again (its prompt): the extra
  // prefill a migration costs, before any prefix cache hit.
  std::size_t resent_tokens() const { return passthrough_ ? 0 : prompt_ids_.size() + output_ids_.size(); }
  StreamFailure failure() const { return failure_; }
  bool closed() const { return closed_; }

 private:
  StreamSplicer(StreamApi api, nlohmann::json request, Limits limits);

  // A new engine's body: nothing of the last one is kept.
  void start_reading();
  void on_event(std::string_view data, std::string& out);
  void on_chunk(nlohmann::json& chunk, std::string& out);
  // The chunk as the client sees it: the first engine's less token ids and usage; later
  // engines' rebuilt with the first answer's id, created and model (a chat delta for chat).
  std::optional<nlohmann::json> client_chunk(const nlohmann::json& chunk, std::string_view text,
                                             const nlohmann::json& finish_reason);
  // A chunk in the client's shape, made here: a continuation's text, or an ending.
  nlohmann::json own_chunk(std::string_view text, const nlohmann::json& finish_reason);
  void fail(StreamFailure why) {
    if (failure_ == StreamFailure::none) failure_ = why;
  }
  std::string usage_events() const;

  StreamApi api_;
  nlohmann::json request_;  // the client's body
  Limits limits_;
  bool client_wants_usage_ = false;
  std::optional<uint64_t> max_tokens_;  // the client's limit on output tokens

  // The answer as the client knows it.
  nlohmann::json first_id_, first_created_, first_model_;
  std::vector<uint32_t> prompt_ids_;
  std::vector<uint32_t> output_ids_;  // of every token whose text was passed on
  uint64_t prompt_tokens_ = 0;        // the first engine's usage.prompt_tokens
  bool role_sent_ = false;            // chat: the assistant role went out
  bool text_sent_ = false;            // some of the answer's text went out
  bool finished_ = false;             // a finish_reason went out: the answer is whole
  bool closed_ = false;               // `[DONE]` went out
  std::string missing_ids_;           // why ids cannot be trusted (the engine sent none...)
  std::string unmovable_;             // relay_only: why the request cannot move

  // The engine answering now: in the client's shape (the first, or one sent the request again
  // before any text went out), else a continuation on /v1/completions.
  bool passthrough_ = true;
  StreamApi attempt_api_;
  LineSplitter lines_;      // the engine's body, line by line
  std::string event_data_;  // the data lines of the event read so far
  StreamFailure failure_ = StreamFailure::none;
  unsigned migrations_ = 0;
};

}  // namespace duet::router
