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
// delta; usage summed; one `[DONE]`, only once the answer is whole. The client's stop
// strings are checked here, over the whole answer, and not sent to the engines: one that
// spans a seam is found, and no text an engine held back dies with it.
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
#include "duet/common/stop_strings.h"

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
    // Engines that return no token ids are continued from the answer's text (the client's
    // chat with the answer as a final assistant message to continue, or its prompt text with
    // the answer appended): exact only where the model's template round-trips it.
    bool text_fallback = false;
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
  enum class Mode {
    request,  // nothing of the answer went out: the client's request again, to its path
    exact,    // prompt ids + output ids, to /v1/completions
    text,     // the answer so far as text, to the client's path (Limits::text_fallback)
  };
  struct Resume {
    std::string body;
    Mode mode = Mode::exact;
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
  // Tokens of the answer so far (ids, or one per chunk with text from an engine without).
  uint64_t output_tokens() const { return generated_; }
  // Tokens the latest continuation makes its engine compute again (its prompt): the extra
  // prefill a migration costs, before any prefix cache hit (a text continuation's, estimated).
  uint64_t resent_tokens() const { return resent_; }
  StreamFailure failure() const { return failure_; }
  bool closed() const { return closed_; }
  // The answer ended at one of the client's stop strings, found here: the engine's rest of it
  // is not wanted (its connection is closed, which cancels it).
  bool stopped() const { return stopped_; }

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
  // The body of the next engine's continuation, from ids or from text (nullopt: `why` says
  // why the answer cannot be resent as text).
  nlohmann::json exact_body() const;
  std::optional<nlohmann::json> text_body(std::string& why) const;
  Resume continue_with(Mode mode, std::string body);

  StreamApi api_;
  nlohmann::json request_;  // the client's body
  Limits limits_;
  bool client_wants_usage_ = false;
  std::optional<uint64_t> max_tokens_;  // the client's limit on output tokens

  // The answer as the client knows it.
  nlohmann::json first_id_, first_created_, first_model_;
  std::vector<uint32_t> prompt_ids_;
  std::vector<uint32_t> output_ids_;  // of every token whose text was passed on
  uint64_t generated_ = 0;            // tokens of the answer so far
  uint64_t before_engine_ = 0;        // of those, from the engines before this one
  std::optional<uint64_t> engine_usage_;  // this engine's usage.completion_tokens
  uint64_t resent_ = 0;
  uint64_t prompt_tokens_ = 0;        // the first engine's usage.prompt_tokens
  std::string answer_text_;           // with text_fallback: the answer's text so far
  bool ids_missing_ = false;          // an engine sent text without ids: they are never whole
  bool role_sent_ = false;            // chat: the assistant role went out
  bool text_sent_ = false;            // some of the answer's text went out
  bool finished_ = false;             // a finish_reason went out: the answer is whole
  bool closed_ = false;               // `[DONE]` went out
  bool stopped_ = false;              // at a stop string
  std::string unresumable_;           // why the answer cannot go on (a tool call, too long)
  std::string unmovable_;             // relay_only: why the request cannot move
  // The client's `stop`, `include_stop_str_in_output` and `min_tokens`, applied to the
  // answer across engines (what may begin a stop string is held back).
  StopStrings stop_spec_;
  StopStringFilter stops_;

  // The engine answering now: in the client's shape (the first, or one sent the request again
  // before any text went out), else a continuation on /v1/completions.
  bool passthrough_ = true;
  Mode mode_ = Mode::request;  // how the engine answering now began
  StreamApi attempt_api_;
  LineSplitter lines_;      // the engine's body, line by line
  std::string event_data_;  // the data lines of the event read so far
  StreamFailure failure_ = StreamFailure::none;
  unsigned migrations_ = 0;
};

std::string_view to_string(StreamSplicer::Mode mode);

}  // namespace duet::router
