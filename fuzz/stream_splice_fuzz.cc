// duet-router's StreamSplicer (router/stream_splicer.cc) reading an engine's SSE body: the
// input is the body (its first byte picks chat or completions, the text fallback and stop
// strings), as a broken or hostile engine could send it. Checks:
// - what the client gets is whole events only: each `data:` line JSON or `[DONE]`, at most
//   one `[DONE]` and nothing after it, no token-id field of the engine's;
// - the same bytes in any split give the same client bytes (and the same failure);
// - after the body ends, either the answer is whole or the next step is a continuation
//   body (JSON: a token-id prompt ending in the ids the client has, or the client's request
//   with the answer as text; max_tokens less the tokens sent) or a close; a close that is not
//   whole ends in an error event and no `[DONE]`.

#include <cstdint>
#include <nlohmann/json.hpp>

#include "duet/common/hash.h"
#include "fuzz_check.h"
#include "http_checks.h"
#include "router/stream_splicer.h"

namespace {

using duet::router::StreamApi;
using duet::router::StreamFailure;
using duet::router::StreamSplicer;
using nlohmann::json;

struct Setup {
  StreamApi api;
  bool text_fallback;
  bool stops;
};

StreamSplicer make(const Setup& setup) {
  json request = setup.api == StreamApi::chat ? json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}}
                                              : json{{"prompt", "hi"}};
  request["stream"] = true;
  request["max_tokens"] = 64;
  request["stream_options"] = {{"include_usage", true}};
  if (setup.stops) request["stop"] = {"w1", "\n\n", "é"};
  return std::get<StreamSplicer>(StreamSplicer::begin(setup.api, request, {2, 4096, setup.text_fallback}));
}

// The client's bytes: every event whole and JSON, one [DONE] at most and last.
void check_client(std::string_view out) {
  int done = 0;
  while (!out.empty()) {
    DUET_FUZZ_CHECK(out.starts_with("data: "), std::string(out.substr(0, 80)));
    auto end = out.find("\n\n");
    DUET_FUZZ_CHECK(end != std::string_view::npos, "an event without its end");
    auto data = out.substr(6, end - 6);
    out.remove_prefix(end + 2);
    if (data == "[DONE]") {
      ++done;
      DUET_FUZZ_CHECK(out.empty(), "bytes after [DONE]");
      continue;
    }
    DUET_FUZZ_CHECK(data.find('\n') == std::string_view::npos, "a line break inside an event");
    json e = json::parse(data, nullptr, false);
    DUET_FUZZ_CHECK(!e.is_discarded() && e.is_object(), std::string(data));
    // Where return_token_ids puts ids, none is left (other fields pass as the engine sent them).
    DUET_FUZZ_CHECK(!e.contains("prompt_token_ids"), std::string(data));
    if (e.contains("choices") && e["choices"].is_array() && !e["choices"].empty() && e["choices"][0].is_object())
      DUET_FUZZ_CHECK(!e["choices"][0].contains("token_ids") && !e["choices"][0].contains("prompt_token_ids"),
                      std::string(data));
  }
  DUET_FUZZ_CHECK(done <= 1, "two [DONE]");
}

struct Run {
  std::string client;
  StreamFailure failure;
};

Run run(const Setup& setup, std::string_view body, const std::vector<std::string_view>& pieces) {
  auto s = make(setup);
  Run r;
  for (auto piece : pieces) r.client += s.feed(piece);
  r.failure = s.end();
  check_client(r.client);
  if (r.failure == StreamFailure::none) return r;
  auto next = s.after_failure();
  if (auto* resume = std::get_if<StreamSplicer::Resume>(&next)) {
    json b = json::parse(resume->body, nullptr, false);
    DUET_FUZZ_CHECK(!b.is_discarded(), resume->body);
    if (resume->mode == StreamSplicer::Mode::request) {  // nothing went out: the request again
      DUET_FUZZ_CHECK(resume->body == make(setup).first_body(), resume->body);
    } else {
      if (resume->mode == StreamSplicer::Mode::exact)
        DUET_FUZZ_CHECK(b["prompt"].is_array() && b["prompt"].size() >= s.output_tokens(), resume->body);
      else
        DUET_FUZZ_CHECK(setup.text_fallback && (b["prompt"].is_string() || b["continue_final_message"] == true),
                        resume->body);
      DUET_FUZZ_CHECK(b["max_tokens"].get<uint64_t>() + s.output_tokens() == 64, resume->body);
      DUET_FUZZ_CHECK(!b.contains("stop"), resume->body);
    }
    // The continuation's own bytes splice in under the same rules.
    std::string more = s.feed(body);
    s.end();
    check_client(r.client + more);
  } else {
    const auto& close = std::get<StreamSplicer::Close>(next);
    check_client(r.client + close.events);
    if (!close.whole) DUET_FUZZ_CHECK(close.events.find("\"error\"") != std::string::npos, close.events);
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Setup setup{data[0] & 1 ? StreamApi::chat : StreamApi::completions, (data[0] & 2) != 0, (data[0] & 4) != 0};
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  Run whole = run(setup, body, {body});
  auto cuts = duet::fuzz::cut_points(duet::fnv1a(body), body.size());
  Run split = run(setup, body, duet::fuzz::cut(body, cuts));
  DUET_FUZZ_CHECK(whole.client == split.client, "the split changed what the client got");
  DUET_FUZZ_CHECK(whole.failure == split.failure, "the split changed the failure");
  return 0;
}
