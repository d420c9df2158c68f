// StreamSplicer in memory: an engine's SSE events as duet-sim and vLLM write them, cut in each
// way an engine dies at each point of an answer, then a second engine's continuation; what
// the client gets must read as one engine's whole answer.

#include "router/stream_splicer.h"

#include <gtest/gtest.h>

namespace duet::router {
namespace {

using nlohmann::json;

constexpr int kTokens = 6;
const std::vector<uint32_t> kPromptIds = {11, 12, 13};

uint32_t id_of(int i) { return 1000 + static_cast<uint32_t>(i); }
std::string text_of(int i) { return " w" + std::to_string(i) + (i == 2 ? "é" : ""); }

std::string event(const json& data) { return "data: " + data.dump() + "\n\n"; }

// Token `i` of an engine's stream, as vLLM sends it with return_token_ids.
std::string token_event(StreamApi api, const std::string& id, int i, bool first) {
  json choice = {{"index", 0}, {"token_ids", {id_of(i)}}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  json chunk = {{"id", id}, {"created", 100}, {"model", "m"}};
  if (api == StreamApi::chat) {
    choice["delta"] = first ? json{{"role", "assistant"}, {"content", text_of(i)}} : json{{"content", text_of(i)}};
    chunk["object"] = "chat.completion.chunk";
    if (first) chunk["prompt_token_ids"] = kPromptIds;
  } else {
    choice["text"] = text_of(i);
    chunk["object"] = "text_completion";
    if (first) choice["prompt_token_ids"] = kPromptIds;
  }
  chunk["choices"] = json::array({choice});
  return event(chunk);
}

// The end of a whole answer of `tokens` tokens: the finish_reason, usage, [DONE].
std::string ending(StreamApi api, const std::string& id, int prompt, int tokens) {
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", "length"}};
  if (api == StreamApi::chat) choice["delta"] = json::object();
  else choice["text"] = "";
  return event({{"id", id}, {"created", 100}, {"model", "m"}, {"choices", json::array({choice})}}) +
         event({{"id", id}, {"choices", json::array()},
                {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", tokens}, {"total_tokens", prompt + tokens}}}}) +
         "data: [DONE]\n\n";
}

// What the client read: the text, the chunks' ids, how many role deltas, the usage, [DONE]s,
// and any error event; and whether a token id leaked.
struct ClientView {
  std::string text;
  std::set<std::string> ids;
  int roles = 0;
  json usage;
  int done = 0;
  json error;
  bool leaked_ids = false;
  std::string finish;
};

ClientView read_client(const std::string& sse) {
  ClientView v;
  std::size_t at = 0;
  while ((at = sse.find("data: ", at)) != std::string::npos) {
    auto end = sse.find("\n\n", at);
    std::string data = sse.substr(at + 6, end - at - 6);
    at = end;
    if (data == "[DONE]") {
      ++v.done;
      continue;
    }
    json e = json::parse(data);
    if (e.contains("error")) {
      v.error = e["error"];
      continue;
    }
    v.ids.insert(e.value("id", ""));
    if (e.contains("usage")) v.usage = e["usage"];
    if (e.dump().find("token_ids") != std::string::npos) v.leaked_ids = true;
    if (e["choices"].empty()) continue;
    const json& c = e["choices"][0];
    if (c.contains("delta")) {
      if (c["delta"].contains("role")) ++v.roles;
      v.text += c["delta"].value("content", "");
    } else {
      v.text += c.value("text", "");
    }
    if (c["finish_reason"].is_string()) v.finish = c["finish_reason"];
  }
  return v;
}

std::string reference_text() {
  std::string t;
  for (int i = 0; i < kTokens; ++i) t += text_of(i);
  return t;
}

json client_request(StreamApi api, bool usage = true) {
  json r = api == StreamApi::chat ? json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}}
                                  : json{{"prompt", "hi"}};
  r["model"] = "m";
  r["max_tokens"] = kTokens;
  r["stream"] = true;
  r["seed"] = 40;
  if (usage) r["stream_options"] = {{"include_usage", true}};
  return r;
}

StreamSplicer splicer(StreamApi api, json request, StreamSplicer::Limits limits = {}) {
  auto made = StreamSplicer::begin(api, request, limits);
  if (auto* why = std::get_if<std::string>(&made)) ADD_FAILURE() << "ineligible: " << *why;
  return std::get<StreamSplicer>(std::move(made));
}

// How the first engine's stream breaks off after its `k` tokens.
struct Cut {
  const char* name;
  std::string bytes;  // what it sends after the k tokens (then its body ends)
  StreamFailure failure;
};

std::vector<Cut> cuts(const std::string& id) {
  return {{"EndOfBody", "", StreamFailure::cut},
          {"HalfAnEvent", "data: {\"id\":\"" + id + "\",\"cho", StreamFailure::cut},
          {"ErrorEventThenDone", event({{"error", {{"message", "boom"}, {"code", 500}}}}) + "data: [DONE]\n\n",
           StreamFailure::error_event},
          {"DoneWithoutFinish", "data: [DONE]\n\n", StreamFailure::no_finish},
          {"Abort", event({{"id", id}, {"choices", {{{"index", 0}, {"text", ""}, {"finish_reason", "abort"}}}}}) +
                        "data: [DONE]\n\n",
           StreamFailure::abort},
          {"Garbled", "data: {not json\n\n", StreamFailure::garbled}};
}

class SplicedStream : public ::testing::TestWithParam<std::tuple<StreamApi, int, int>> {};

// Every cut at every point: the continuation asks exactly for what is missing and the client
// reads one whole answer.
TEST_P(SplicedStream, ReadsAsOneWholeAnswer) {
  auto [api, k, cut_index] = GetParam();
  const Cut cut = cuts("A")[static_cast<std::size_t>(cut_index)];
  SCOPED_TRACE(cut.name);
  auto s = splicer(api, client_request(api));
  std::string client;
  for (int i = 0; i < k; ++i) client += s.feed(token_event(api, "A", i, i == 0));
  if (k == 0) client += s.feed(token_event(api, "A", -1, true).substr(0, 0));  // nothing yet
  client += s.feed(cut.bytes);
  auto failure = s.failure() != StreamFailure::none ? s.failure() : s.end();
  EXPECT_EQ(failure, cut.failure);
  auto next = s.after_failure();
  ASSERT_TRUE(std::holds_alternative<StreamSplicer::Resume>(next));
  const auto& resume = std::get<StreamSplicer::Resume>(next);
  json body = json::parse(resume.body);
  EXPECT_EQ(resume.mode, k == 0 ? StreamSplicer::Mode::request : StreamSplicer::Mode::exact);
  if (k == 0) {
    // Nothing went out: the request itself goes to the next engine, which answers in full.
    EXPECT_EQ(body.contains("messages"), api == StreamApi::chat);
    EXPECT_EQ(body["return_token_ids"], true);
    EXPECT_EQ(body["max_tokens"], kTokens);
    for (int i = 0; i < kTokens; ++i) client += s.feed(token_event(api, "B", i, i == 0));
    client += s.feed(ending(api, "B", 3, kTokens));
    EXPECT_EQ(s.end(), StreamFailure::none);
    auto view = read_client(client);
    EXPECT_EQ(view.text, reference_text());
    EXPECT_EQ(view.ids.size(), 1u);  // the first id the client saw, if any, else B's
    EXPECT_EQ(view.done, 1);
    EXPECT_FALSE(view.leaked_ids);
    EXPECT_EQ(view.usage["completion_tokens"], kTokens);
    return;
  }
  std::vector<uint32_t> expected_prompt = kPromptIds;
  for (int i = 0; i < k; ++i) expected_prompt.push_back(id_of(i));
  EXPECT_EQ(body["prompt"], json(expected_prompt));
  EXPECT_EQ(body["max_tokens"], kTokens - k);
  EXPECT_EQ(body["seed"], 40 ^ k);
  EXPECT_EQ(body["return_token_ids"], true);
  EXPECT_EQ(body["model"], "m");
  EXPECT_FALSE(body.contains("messages"));

  // The second engine (a completion, whatever the client asked) answers the rest.
  for (int i = k; i < kTokens; ++i) client += s.feed(token_event(StreamApi::completions, "B", i, i == k));
  client += s.feed(ending(StreamApi::completions, "B", 3 + k, kTokens - k));
  EXPECT_EQ(s.end(), StreamFailure::none);

  auto view = read_client(client);
  EXPECT_EQ(view.text, reference_text());
  EXPECT_EQ(view.ids, std::set<std::string>{"A"});
  EXPECT_EQ(view.done, 1);
  EXPECT_TRUE(view.error.is_null());
  EXPECT_FALSE(view.leaked_ids);
  EXPECT_EQ(view.finish, "length");
  EXPECT_EQ(view.usage["completion_tokens"], kTokens);
  EXPECT_EQ(view.usage["prompt_tokens"], 3);
  if (api == StreamApi::chat) {
    EXPECT_EQ(view.roles, 1);
  }
  EXPECT_EQ(s.migrations(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryCutAtEveryPoint, SplicedStream,
    ::testing::Combine(::testing::Values(StreamApi::completions, StreamApi::chat),
                       ::testing::Values(0, 1, kTokens / 2, kTokens - 1), ::testing::Range(0, 6)),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == StreamApi::chat ? "Chat" : "Completion") + "At" +
             std::to_string(std::get<1>(info.param)) + cuts("A")[static_cast<std::size_t>(std::get<2>(info.param))].name;
    });

TEST(StreamSplicer, AWholeAnswerPassesWithoutTheAddedFields) {
  auto s = splicer(StreamApi::completions, client_request(StreamApi::completions, false));
  json first = json::parse(s.first_body());
  EXPECT_EQ(first["return_token_ids"], true);
  EXPECT_EQ(first["stream_options"]["include_usage"], true);
  std::string client;
  for (int i = 0; i < kTokens; ++i) client += s.feed(token_event(StreamApi::completions, "A", i, i == 0));
  client += s.feed(ending(StreamApi::completions, "A", 3, kTokens));
  EXPECT_EQ(s.end(), StreamFailure::none);
  auto view = read_client(client);
  EXPECT_EQ(view.text, reference_text());
  EXPECT_EQ(view.done, 1);
  EXPECT_TRUE(view.usage.is_null());  // the client did not ask for usage
  EXPECT_FALSE(view.leaked_ids);
}

TEST(StreamSplicer, BytesMayArriveOneAtATime) {
  auto s = splicer(StreamApi::chat, client_request(StreamApi::chat));
  std::string engine;
  for (int i = 0; i < kTokens; ++i) engine += token_event(StreamApi::chat, "A", i, i == 0);
  engine += ending(StreamApi::chat, "A", 3, kTokens);
  std::string client;
  for (char c : engine) client += s.feed(std::string_view(&c, 1));
  auto view = read_client(client);
  EXPECT_EQ(view.text, reference_text());
  EXPECT_EQ(view.done, 1);
  EXPECT_EQ(view.usage["completion_tokens"], kTokens);
}

// The finish_reason came, then the engine died before [DONE]: the answer is whole.
TEST(StreamSplicer, AFinishedAnswerWhoseEngineDiesBeforeDoneIsWhole) {
  auto s = splicer(StreamApi::completions, client_request(StreamApi::completions));
  std::string client;
  for (int i = 0; i < kTokens; ++i) client += s.feed(token_event(StreamApi::completions, "A", i, i == 0));
  std::string end = ending(StreamApi::completions, "A", 3, kTokens);
  client += s.feed(end.substr(0, end.find("data:", 1)));  // the finish chunk only
  EXPECT_EQ(s.end(), StreamFailure::none);
  client += s.close_whole();
  auto view = read_client(client);
  EXPECT_EQ(view.done, 1);
  EXPECT_EQ(view.finish, "length");
}

// Every token asked for went out, then the engine died: the answer ends at its length.
TEST(StreamSplicer, AllTokensSentThenCutEndsAtLength) {
  auto s = splicer(StreamApi::chat, client_request(StreamApi::chat));
  std::string client;
  for (int i = 0; i < kTokens; ++i) client += s.feed(token_event(StreamApi::chat, "A", i, i == 0));
  EXPECT_EQ(s.end(), StreamFailure::cut);
  auto close = std::get<StreamSplicer::Close>(s.after_failure());
  EXPECT_TRUE(close.whole);
  auto view = read_client(client + close.events);
  EXPECT_EQ(view.finish, "length");
  EXPECT_EQ(view.done, 1);
  EXPECT_EQ(view.text, reference_text());
}

// A chat engine that sent its role delta and died: the request goes again and the second
// engine's role delta is not sent twice.
TEST(StreamSplicer, ARoleSentBeforeTheCutIsNotSentAgain) {
  auto s = splicer(StreamApi::chat, client_request(StreamApi::chat));
  std::string client = s.feed(event({{"id", "A"}, {"object", "chat.completion.chunk"}, {"created", 100}, {"model", "m"},
                                     {"choices", {{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                                                   {"finish_reason", nullptr}}}}}));
  EXPECT_EQ(s.end(), StreamFailure::cut);
  ASSERT_EQ(std::get<StreamSplicer::Resume>(s.after_failure()).mode, StreamSplicer::Mode::request);
  for (int i = 0; i < kTokens; ++i) client += s.feed(token_event(StreamApi::chat, "B", i, i == 0));
  client += s.feed(ending(StreamApi::chat, "B", 3, kTokens));
  auto view = read_client(client);
  EXPECT_EQ(view.roles, 1);
  EXPECT_EQ(view.text, reference_text());
  EXPECT_EQ(view.ids, std::set<std::string>{"A"});
}

// Two engines die in a row; with maxMigrations 1 the client gets the clean error.
TEST(StreamSplicer, StopsAtMaxMigrationsWithAnErrorAndNoDone) {
  auto s = splicer(StreamApi::completions, client_request(StreamApi::completions), {1, 32768});
  std::string client = s.feed(token_event(StreamApi::completions, "A", 0, true));
  s.end();
  ASSERT_TRUE(std::holds_alternative<StreamSplicer::Resume>(s.after_failure()));
  client += s.feed(token_event(StreamApi::completions, "B", 1, true));
  EXPECT_EQ(s.end(), StreamFailure::cut);
  auto close = std::get<StreamSplicer::Close>(s.after_failure());
  EXPECT_FALSE(close.whole);
  EXPECT_EQ(close.why, "maxMigrations (1) reached");
  auto view = read_client(client + close.events);
  EXPECT_EQ(view.text, text_of(0) + text_of(1));
  EXPECT_EQ(view.done, 0);
  EXPECT_NE(view.error["message"].get<std::string>().find("maxMigrations"), std::string::npos);
}

// An engine that returns no ids (no return_token_ids) cannot be continued exactly.
TEST(StreamSplicer, WithoutTokenIdsTheStreamDoesNotMove) {
  auto s = splicer(StreamApi::completions, client_request(StreamApi::completions));
  std::string no_ids = token_event(StreamApi::completions, "A", 0, true);
  json chunk = json::parse(no_ids.substr(6));
  chunk["choices"][0].erase("token_ids");
  s.feed(event(chunk));
  s.end();
  auto close = std::get<StreamSplicer::Close>(s.after_failure());
  EXPECT_EQ(close.why, "the engine returned no token ids");
}

TEST(StreamSplicer, PastMaxMigratableTokensTheStreamDoesNotMove) {
  auto s = splicer(StreamApi::completions, client_request(StreamApi::completions), {2, 4});
  for (int i = 0; i < 2; ++i) s.feed(token_event(StreamApi::completions, "A", i, i == 0));
  s.end();
  EXPECT_EQ(std::get<StreamSplicer::Close>(s.after_failure()).why, "the answer is past maxMigratableTokens");
}

// A request that cannot move still gets whole events and, when its engine dies, the error
// event saying why; a whole answer passes as the engine sent it, usage included.
TEST(StreamSplicer, ARelayOnlyStreamEndsWithTheReasonInsteadOfACut) {
  auto cut = StreamSplicer::relay_only(StreamApi::completions, client_request(StreamApi::completions), "logprobs");
  std::string client = cut.feed(token_event(StreamApi::completions, "A", 0, true));
  client += cut.feed("data: {\"id\":\"A\",\"cho");  // half an event, then the cut
  EXPECT_EQ(cut.end(), StreamFailure::cut);
  auto close = std::get<StreamSplicer::Close>(cut.after_failure());
  EXPECT_EQ(close.why, "logprobs");
  auto view = read_client(client + close.events);
  EXPECT_EQ(view.text, text_of(0));
  EXPECT_EQ(view.done, 0);
  EXPECT_NE(view.error["message"].get<std::string>().find("logprobs"), std::string::npos);

  auto whole = StreamSplicer::relay_only(StreamApi::completions, client_request(StreamApi::completions), "logprobs");
  std::string engine;
  for (int i = 0; i < kTokens; ++i) engine += token_event(StreamApi::completions, "A", i, i == 0);
  engine += ending(StreamApi::completions, "A", 3, kTokens);
  auto passed = read_client(whole.feed(engine));
  EXPECT_EQ(passed.text, reference_text());
  EXPECT_EQ(passed.done, 1);
  EXPECT_EQ(passed.usage["completion_tokens"], kTokens);  // the engine's own usage chunk
}

TEST(StreamSplicer, IneligibleRequestsSayWhy) {
  auto why = [](StreamApi api, json change) {
    json r = client_request(api);
    r.update(change);
    auto made = StreamSplicer::begin(api, r, {});
    return std::holds_alternative<std::string>(made) ? std::get<std::string>(made) : "eligible";
  };
  EXPECT_EQ(why(StreamApi::completions, {{"stream", false}}), "not streamed");
  EXPECT_EQ(why(StreamApi::completions, {{"n", 2}}), "n is not 1");
  EXPECT_EQ(why(StreamApi::chat, {{"response_format", {{"type", "json_schema"}}}}), "guided decoding (response_format)");
  EXPECT_EQ(why(StreamApi::completions, {{"guided_regex", "a+"}}), "guided decoding (guided_regex)");
  EXPECT_EQ(why(StreamApi::chat, {{"tool_choice", "required"}}), "a required tool call");
  EXPECT_EQ(why(StreamApi::chat, {{"presence_penalty", 0.5}}),
            "presence or frequency penalties (they count only what one engine generated)");
  EXPECT_EQ(why(StreamApi::completions, {{"logprobs", 2}}), "logprobs");
  EXPECT_EQ(why(StreamApi::completions, {{"prompt", {"a", "b"}}}), "more than one prompt");
  EXPECT_EQ(why(StreamApi::completions, {{"prompt", {1, 2, 3}}}), "eligible");
  EXPECT_EQ(why(StreamApi::chat, {{"tool_choice", "auto"}, {"presence_penalty", 0}}), "eligible");
}

// The client's stop strings are checked by the router over the whole answer: every engine is
// sent none, a stop string that spans the seam is found, text held back (it might begin one)
// reaches the client once, and the answer ends there with finish_reason "stop" and its
// stop_reason, usage counting every token generated.
class SplicerStopStrings : public ::testing::TestWithParam<std::tuple<StreamApi, int>> {};

TEST_P(SplicerStopStrings, AreFoundAcrossTheSeamAndNoHeldBackTextIsLost) {
  auto [api, k] = GetParam();
  // " w2é w3": from token 2 into token 3; the engine breaks after its `k` tokens.
  const std::string stop = "2é w3";
  json request = client_request(api);
  request["stop"] = json::array({"never", stop});
  auto s = splicer(api, request);
  EXPECT_FALSE(json::parse(s.first_body()).contains("stop"));
  std::string client;
  for (int i = 0; i < k; ++i) client += s.feed(token_event(api, "A", i, i == 0));
  EXPECT_EQ(s.end(), StreamFailure::cut);
  auto next = s.after_failure();
  ASSERT_TRUE(std::holds_alternative<StreamSplicer::Resume>(next));
  const auto& resume = std::get<StreamSplicer::Resume>(next);
  json body = json::parse(resume.body);
  EXPECT_FALSE(body.contains("stop"));
  // After one token all its text was held back: nothing went out, the request goes again.
  EXPECT_EQ(resume.mode, k == 1 ? StreamSplicer::Mode::request : StreamSplicer::Mode::exact);
  int from = k == 1 ? 0 : k;
  StreamApi next_api = k == 1 ? api : StreamApi::completions;
  for (int i = from; i < kTokens; ++i) {
    client += s.feed(token_event(next_api, "B", i, i == from));
    if (s.closed()) break;
  }
  EXPECT_TRUE(s.stopped());
  auto view = read_client(client);
  std::string whole = reference_text();
  EXPECT_EQ(view.text, whole.substr(0, whole.find(stop)));
  EXPECT_EQ(view.finish, "stop");
  EXPECT_NE(client.find("\"stop_reason\":\"" + stop + "\""), std::string::npos) << client;
  EXPECT_EQ(view.done, 1);
  EXPECT_EQ(view.usage["completion_tokens"], 4);  // tokens 0..3: the one that completed it too
}

INSTANTIATE_TEST_SUITE_P(BreakBeforeWithinAndAfterIt, SplicerStopStrings,
                         ::testing::Combine(::testing::Values(StreamApi::completions, StreamApi::chat),
                                            ::testing::Values(1, 2, 3)));

TEST(SplicerStopStringsOneEngine, HoldBackOnlyWhatMayBeginOneAndFlushItAtTheEnd) {
  json request = client_request(StreamApi::completions);
  request["stop"] = "zz";  // never found: one byte held back each time, all of it at the end
  request["include_stop_str_in_output"] = false;
  auto s = splicer(StreamApi::completions, request);
  std::string first = s.feed(token_event(StreamApi::completions, "A", 0, true));
  EXPECT_EQ(read_client(first).text, " w");  // " w0" less its last byte
  std::string client = first;
  for (int i = 1; i < kTokens; ++i) client += s.feed(token_event(StreamApi::completions, "A", i, false));
  client += s.feed(ending(StreamApi::completions, "A", 3, kTokens));
  auto view = read_client(client);
  EXPECT_EQ(view.text, reference_text());
  EXPECT_EQ(view.finish, "length");
  EXPECT_FALSE(s.stopped());
}

TEST(SplicerStopStringsOneEngine, IncludeStopStrInOutputAndMinTokens) {
  json request = client_request(StreamApi::completions);
  request["stop"] = "w1";
  request["include_stop_str_in_output"] = true;
  auto s = splicer(StreamApi::completions, request);
  std::string client;
  for (int i = 0; i < kTokens && !s.closed(); ++i) client += s.feed(token_event(StreamApi::completions, "A", i, i == 0));
  EXPECT_EQ(read_client(client).text, " w0 w1");

  request["min_tokens"] = 3;  // checked from the fourth token on, as vLLM does
  request["stop"] = "w";
  auto late = splicer(StreamApi::completions, request);
  client.clear();
  for (int i = 0; i < kTokens && !late.closed(); ++i)
    client += late.feed(token_event(StreamApi::completions, "A", i, i == 0));
  EXPECT_EQ(read_client(client).text, " w0 w1 w2é w");
}

TEST(SplicerStopStringsOneEngine, AStopThatIsNotAStringOrStringsIsNotMovable) {
  json request = client_request(StreamApi::chat);
  request["stop"] = json::array({"ok", 7});
  auto made = StreamSplicer::begin(StreamApi::chat, request, {});
  ASSERT_TRUE(std::holds_alternative<std::string>(made));
  EXPECT_EQ(std::get<std::string>(made), "stop is not a string or an array of strings");
}

// An engine that returns no token ids (vLLM before 0.10.2, SGLang's streamed chat): with
// textFallback the answer so far goes to the next engine as text (the chat's final assistant
// message to continue, or the prompt text with the answer appended); without, the stream
// ends with the error event.
std::string token_event_without_ids(StreamApi api, const std::string& id, int i, bool first) {
  std::string e = token_event(api, id, i, first);
  json chunk = json::parse(e.substr(6));
  chunk.erase("prompt_token_ids");
  chunk["choices"][0].erase("token_ids");
  chunk["choices"][0].erase("prompt_token_ids");
  return event(chunk);
}

class TextFallback : public ::testing::TestWithParam<StreamApi> {};

TEST_P(TextFallback, ContinuesFromTheAnswersTextWhereItIsOn) {
  StreamApi api = GetParam();
  const int k = 2;
  auto off = splicer(api, client_request(api));
  for (int i = 0; i < k; ++i) off.feed(token_event_without_ids(api, "A", i, i == 0));
  off.end();
  auto closed = std::get<StreamSplicer::Close>(off.after_failure());
  EXPECT_EQ(closed.why, "the engine returned no token ids");

  auto s = splicer(api, client_request(api), {2, 32768, true});
  std::string client;
  for (int i = 0; i < k; ++i) client += s.feed(token_event_without_ids(api, "A", i, i == 0));
  EXPECT_EQ(s.end(), StreamFailure::cut);
  auto resume = std::get<StreamSplicer::Resume>(s.after_failure());
  EXPECT_EQ(resume.mode, StreamSplicer::Mode::text);
  json body = json::parse(resume.body);
  std::string so_far = text_of(0) + text_of(1);
  if (api == StreamApi::chat) {
    ASSERT_EQ(body["messages"].size(), 2u);
    EXPECT_EQ(body["messages"][1], (json{{"role", "assistant"}, {"content", so_far}}));
    EXPECT_EQ(body["continue_final_message"], true);
    EXPECT_EQ(body["add_generation_prompt"], false);
  } else {
    EXPECT_EQ(body["prompt"], "hi" + so_far);
  }
  EXPECT_EQ(body["max_tokens"], kTokens - k);
  EXPECT_EQ(body["seed"], 40 ^ k);

  // The next engine answers in the client's own shape (its own id and role delta).
  for (int i = k; i < kTokens; ++i) client += s.feed(token_event_without_ids(api, "B", i, i == k));
  client += s.feed(ending(api, "B", 3 + k, kTokens - k));
  EXPECT_EQ(s.end(), StreamFailure::none);
  auto view = read_client(client);
  EXPECT_EQ(view.text, reference_text());
  EXPECT_EQ(view.ids, std::set<std::string>{"A"});
  EXPECT_EQ(view.done, 1);
  if (api == StreamApi::chat) {
    EXPECT_EQ(view.roles, 1);
  }
  EXPECT_EQ(view.usage["completion_tokens"], kTokens);
  EXPECT_EQ(view.usage["prompt_tokens"], 3);  // B's prompt less the answer's k tokens
}

INSTANTIATE_TEST_SUITE_P(CompletionsAndChat, TextFallback,
                         ::testing::Values(StreamApi::completions, StreamApi::chat));

TEST(TextFallbackLimits, ATokenIdPromptCannotBeResentAsText) {
  json request = client_request(StreamApi::completions);
  request["prompt"] = json::array({11, 12, 13});
  auto s = splicer(StreamApi::completions, request, {2, 32768, true});
  s.feed(token_event_without_ids(StreamApi::completions, "A", 0, true));
  s.end();
  auto closed = std::get<StreamSplicer::Close>(s.after_failure());
  EXPECT_EQ(closed.why, "the engine returned no token ids, and the prompt is not text");
}

}  // namespace
}  // namespace duet::router
