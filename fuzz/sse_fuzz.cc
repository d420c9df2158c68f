// duet-sim's side of a completion (engine/sim/request_parser.cc, response_builder.cc,
// sse.cc) and the SSE framing a client reads back. The input is a request body; its "model"
// (when a string) is taken as the served model so that the request gets through. Checks:
// - the UTF-8 check request_parser uses (duet::first_invalid_utf8) agrees with simdjson's;
// - a refused request gets an error body that is JSON;
// - an accepted one is answered: whole, a JSON completion; streamed, SSE events that read
//   back (line by line, in any split, with duet::LineSplitter) as one JSON chunk per token
//   with the model and text generated, a closing chunk, the usage where stream_options asks
//   for it (in the closing chunk without stream_options, in a chunk of its own with empty
//   choices for include_usage, nowhere for include_usage false), then [DONE] and nothing
//   else; the stream built in two calls equals the stream built in one.

#include <simdjson.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "duet/common/line_splitter.h"
#include "duet/common/openai_error.h"
#include "duet/common/utf8.h"
#include "fuzz_check.h"
#include "http_checks.h"
#include "sim/request_parser.h"
#include "sim/response_builder.h"
#include "sim/sse.h"

namespace {

using namespace duet::sim;
using nlohmann::json;

// The events of an SSE stream: the data of each, in order (WHATWG's event stream, the
// parts OpenAI streams use: `data:` lines, an empty line ends an event).
struct Events {
  std::vector<std::string> data;
  bool clean = true;  // no other line, and nothing after the last event
};

Events read_events(std::string_view stream, const std::vector<std::size_t>& cuts) {
  Events out;
  duet::LineSplitter splitter;
  std::optional<std::string> event;
  for (std::string_view piece : duet::fuzz::cut(stream, cuts)) {
    for (const auto& line : splitter.feed(piece)) {
      if (line.empty()) {
        if (event) out.data.push_back(std::move(*event));
        event.reset();
      } else if (line.starts_with("data: ") && !event) {
        event = line.substr(6);
      } else {
        out.clean = false;
      }
    }
  }
  if (event || !splitter.pending().empty()) out.clean = false;
  return out;
}

// `object[key]`, or null when either is missing (const operator[] would be undefined).
const json& member(const json& object, const char* key) {
  static const json null;
  if (!object.is_object()) return null;
  auto it = object.find(key);
  return it == object.end() ? null : *it;
}

void check_chunk(const json& chunk, Api api, const std::string& model) {
  DUET_FUZZ_CHECK(member(chunk, "model") == model, chunk.dump());
  DUET_FUZZ_CHECK(
      member(chunk, "object") == (api == Api::chat ? "chat.completion.chunk" : "text_completion"),
      chunk.dump());
  const json& choices = member(chunk, "choices");
  DUET_FUZZ_CHECK(choices.is_array() && choices.size() == 1, chunk.dump());
}

std::string chunk_text(const json& chunk, Api api) {
  const json& choice = member(chunk, "choices")[0];
  json text = api == Api::chat ? member(choice, "delta").value("content", json(""))
                               : member(choice, "text");
  DUET_FUZZ_CHECK(text.is_string(), chunk.dump());
  return text.get<std::string>();
}

// The usage a stream reports, checked against the request.
void check_usage(const json& usage, const InferenceRequest& r, uint64_t tokens) {
  DUET_FUZZ_CHECK(member(usage, "prompt_tokens") == r.prompt_tokens &&
                      member(usage, "completion_tokens") == tokens &&
                      member(usage, "total_tokens") == r.prompt_tokens + tokens,
                  usage.dump());
}

void check_stream(const InferenceRequest& r, const ResponseBuilder& builder, const Ending& ending,
                  const std::string& model, uint64_t hash) {
  std::string stream = builder.sse_events(0, ending.tokens, ending);
  // Generation asks for the tokens that fell due, never past the last (which ends the stream).
  uint64_t cut = hash % ending.tokens;
  DUET_FUZZ_CHECK(
      builder.sse_events(0, cut, ending) + builder.sse_events(cut, ending.tokens, ending) == stream,
      "two calls differ from one");
  StreamUsage where = stream_usage(r);
  // A chunk per token, the closing chunk, the usage chunk (own_chunk), [DONE].
  uint64_t closing = ending.tokens, events_expected = closing + 2 + (where == StreamUsage::own_chunk);
  Events events = read_events(stream, duet::fuzz::cut_points(hash >> 8, stream.size()));
  DUET_FUZZ_CHECK(events.clean && events.data.size() == events_expected, stream);
  DUET_FUZZ_CHECK(events.data.back() == "[DONE]", stream);
  std::string text, expected;
  for (uint64_t i = 0; i <= closing; ++i) {
    json chunk = json::parse(events.data[i], nullptr, false);
    check_chunk(chunk, r.api, model);
    if (i < closing) expected += token_text(i);
    text += chunk_text(chunk, r.api);
    // Usage only where the request asked for it: in the closing chunk by default.
    bool has_usage = member(chunk, "usage") != json();
    DUET_FUZZ_CHECK(has_usage == (i == closing && where == StreamUsage::closing_chunk),
                    events.data[i]);
  }
  DUET_FUZZ_CHECK(text == expected, stream);
  if (where == StreamUsage::closing_chunk)
    check_usage(member(json::parse(events.data[closing]), "usage"), r, ending.tokens);
  if (where == StreamUsage::own_chunk) {
    json chunk = json::parse(events.data[closing + 1], nullptr, false);
    DUET_FUZZ_CHECK(member(chunk, "model") == model && member(chunk, "choices") == json::array(),
                    events.data[closing + 1]);
    check_usage(member(chunk, "usage"), r, ending.tokens);
  }
}

void check_answer(const InferenceRequest& r, const std::string& model, uint64_t hash) {
  std::string model_json = json(model).dump();  // as sim_state.cc
  ResponseBuilder builder(r.api, response_id(r.api, hash), 1'700'000'000, model_json,
                          stream_usage(r));  // as generation.cc
  Ending ending{r.max_tokens, r.max_tokens_given ? "length" : "stop",
                Usage{r.prompt_tokens, r.max_tokens}};
  if (r.stream) return check_stream(r, builder, ending, model, hash);
  json whole = json::parse(builder.whole(ending), nullptr, false);
  DUET_FUZZ_CHECK(member(whole, "model") == model, builder.whole(ending));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  DUET_FUZZ_CHECK(
      !duet::first_invalid_utf8(body) == simdjson::validate_utf8(body.data(), body.size()),
      "UTF-8 check against simdjson");
  uint64_t hash = duet::fuzz::input_hash(body);
  Api api = hash & 1 ? Api::chat : Api::completions;
  std::string model = "served-model";
  json doc = json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("model") && doc["model"].is_string())
    model = doc["model"].get<std::string>();
  // Small enough that a stream stays short (64 tokens at most).
  RequestLimits limits{model, 16, 64};
  ParseResult parsed = parse_request(api, body, limits);
  if (auto* error = std::get_if<RequestError>(&parsed)) {
    std::string reply = duet::openai_error_body(
        error->status, error->message, duet::openai_error_type(error->status), error->param);
    DUET_FUZZ_CHECK(!json::parse(reply, nullptr, false).is_discarded(), reply);
    return 0;
  }
  check_answer(std::get<InferenceRequest>(parsed), model, hash);
  return 0;
}
