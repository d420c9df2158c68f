#include "router/stream_splicer.h"

#include <algorithm>
#include <utility>

#include "duet/common/openai_error.h"

namespace duet::router {

namespace {

using nlohmann::json;

// A part of an event this long with no end is not an engine's SSE.
constexpr std::size_t kMaxEventBytes = 1 << 20;

// Sampling fields a continuation carries over as they are (the rest of the client's body is
// for the chat template or the client alone).
constexpr const char* kCarried[] = {"model", "temperature", "top_p", "top_k", "min_p",
                                    "repetition_penalty", "stop_token_ids", "ignore_eos",
                                    "skip_special_tokens", "user"};

// Fields checked here, never by the engines (stop strings must span the seams).
constexpr const char* kKeptFromEngines[] = {"stop", "include_stop_str_in_output"};

// The client's stop strings; nullopt when `stop` is neither absent, a string nor an array of
// strings (the engine refuses it then).
std::optional<std::vector<std::string>> stop_strings(const json& request) {
  auto it = request.find("stop");
  std::vector<std::string> out;
  if (it == request.end() || it->is_null()) return out;
  const json list = it->is_string() ? json::array({*it}) : *it;
  if (!list.is_array()) return std::nullopt;
  for (const auto& s : list) {
    if (!s.is_string()) return std::nullopt;
    if (!s.get_ref<const std::string&>().empty()) out.push_back(s.get<std::string>());
  }
  return out;
}

// A JSON integer >= 0 (parsed ones are unsigned, built ones may be signed).
bool is_count(const json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

// An engine's or a client's field of the wrong type reads as absent: never an exception.
std::string text_field(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_true(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

bool nonzero(const json& request, const char* field) {
  auto it = request.find(field);
  return it != request.end() && it->is_number() && it->get<double>() != 0;
}

bool present(const json& request, const char* field) {
  auto it = request.find(field);
  return it != request.end() && !it->is_null();
}

// Why `request` cannot move to another engine mid-answer; empty when it can.
std::string ineligible(StreamApi api, const json& request) {
  if (!request.is_object()) return "the body is not a JSON object";
  if (!is_true(request, "stream")) return "not streamed";
  for (const char* field : {"n", "best_of"}) {
    auto it = request.find(field);
    if (it != request.end() && !it->is_null() && *it != 1) return std::string(field) + " is not 1";
  }
  for (const char* field : {"guided_json", "guided_regex", "guided_choice", "guided_grammar",
                            "structured_outputs"})
    if (present(request, field)) return std::string("guided decoding (") + field + ")";
  if (auto it = request.find("response_format");
      it != request.end() && it->is_object() && !text_field(*it, "type").empty() && text_field(*it, "type") != "text")
    return "guided decoding (response_format)";
  if (auto it = request.find("tool_choice"); it != request.end() && (it->is_object() || *it == "required"))
    return "a required tool call";
  if (nonzero(request, "presence_penalty") || nonzero(request, "frequency_penalty"))
    return "presence or frequency penalties (they count only what one engine generated)";
  if (is_true(request, "echo")) return "echo";
  if (!stop_strings(request)) return "stop is not a string or an array of strings";
  auto logprobs = request.find("logprobs");
  if (logprobs != request.end() && !logprobs->is_null() && *logprobs != false) return "logprobs";
  if (api == StreamApi::completions) {
    const json& prompt = request.contains("prompt") ? request["prompt"] : json();
    bool ids = prompt.is_array() && !prompt.empty() && prompt[0].is_number_integer();
    if (!prompt.is_string() && !ids && !(prompt.is_array() && prompt.size() == 1))
      return "more than one prompt";
  }
  return {};
}

std::optional<uint64_t> client_max_tokens(StreamApi api, const json& request) {
  for (const char* field : {"max_completion_tokens", "max_tokens"}) {
    if (api == StreamApi::completions && std::string_view(field) == "max_completion_tokens") continue;
    auto it = request.find(field);
    if (it != request.end() && is_count(*it)) return it->get<uint64_t>();
  }
  return std::nullopt;
}

// vLLM: stream_options without include_usage means true.
bool wants_usage(const json& request) {
  auto it = request.find("stream_options");
  if (it == request.end() || !it->is_object()) return false;
  return !it->contains("include_usage") || is_true(*it, "include_usage");
}

// A client's or an engine's JSON as it goes on: text that is not UTF-8 replaced, never thrown.
std::string dump(const json& data) { return data.dump(-1, ' ', false, json::error_handler_t::replace); }

void append_event(std::string& out, const json& data) { out.append("data: ").append(dump(data)).append("\n\n"); }

// What every continuation asks: the tokens still missing, reproducibly, streamed with usage.
void ask_for_the_rest(json& body, const json& request, std::optional<uint64_t> max_tokens, uint64_t generated) {
  if (max_tokens) body["max_tokens"] = *max_tokens - generated;
  if (auto it = request.find("min_tokens"); it != request.end() && is_count(*it))
    body["min_tokens"] = it->get<uint64_t>() > generated ? it->get<uint64_t>() - generated : 0;
  // A seeded request stays reproducible across the seam (design B: seed XOR generated).
  if (auto it = request.find("seed"); it != request.end() && it->is_number_integer())
    body["seed"] = it->get<int64_t>() ^ static_cast<int64_t>(generated);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["return_token_ids"] = true;
}

}  // namespace

std::string_view to_string(StreamFailure failure) {
  switch (failure) {
    case StreamFailure::none: return "none";
    case StreamFailure::cut: return "cut";
    case StreamFailure::error_event: return "error_event";
    case StreamFailure::no_finish: return "no_finish";
    case StreamFailure::abort: return "abort";
    case StreamFailure::garbled: return "garbled";
  }
  return "none";
}

std::string_view to_string(StreamSplicer::Mode mode) {
  switch (mode) {
    case StreamSplicer::Mode::request: return "request";
    case StreamSplicer::Mode::exact: return "exact";
    case StreamSplicer::Mode::text: return "text";
  }
  return "exact";
}

StreamSplicer::StreamSplicer(StreamApi api, json request, Limits limits)
    : api_(api),
      request_(std::move(request)),
      limits_(limits),
      client_wants_usage_(wants_usage(request_)),
      max_tokens_(client_max_tokens(api, request_)),
      attempt_api_(api) {
  stop_spec_.strings = stop_strings(request_).value_or(std::vector<std::string>());
  stop_spec_.include_in_output = is_true(request_, "include_stop_str_in_output");
  if (auto it = request_.find("min_tokens"); it != request_.end() && is_count(*it))
    stop_spec_.min_tokens = it->get<uint64_t>();
  stops_ = StopStringFilter(stop_spec_);
}

std::variant<StreamSplicer, std::string> StreamSplicer::begin(StreamApi api, const json& request,
                                                              Limits limits) {
  if (auto why = ineligible(api, request); !why.empty()) return why;
  return StreamSplicer(api, request, limits);
}

StreamSplicer StreamSplicer::relay_only(StreamApi api, const json& request, std::string why) {
  StreamSplicer s(api, request, {0, 0});
  s.unmovable_ = std::move(why);
  s.stop_spec_ = {};  // the engine checks them: its body keeps them
  s.stops_ = StopStringFilter();
  return s;
}

std::string StreamSplicer::first_body() const {
  json body = request_;
  if (unmovable_.empty())
    for (const char* field : kKeptFromEngines) body.erase(field);
  body["return_token_ids"] = true;
  if (!body["stream_options"].is_object()) body["stream_options"] = json::object();
  body["stream_options"]["include_usage"] = true;  // the usage is summed here, then given
  return dump(body);
}

void StreamSplicer::start_reading() {
  lines_ = LineSplitter();
  event_data_.clear();
}

std::string StreamSplicer::feed(std::string_view bytes) {
  std::string out;
  if (failure_ != StreamFailure::none || closed_) return out;
  for (const auto& line : lines_.feed(bytes)) {
    if (line.empty()) {  // the end of an event (SSE): its data lines, joined
      std::string data = std::exchange(event_data_, {});
      if (!data.empty()) on_event(data, out);
      if (failure_ != StreamFailure::none || closed_) return out;  // the rest is not read
      continue;
    }
    std::string_view field = line;
    if (!field.starts_with("data:")) continue;  // comments, event names: nothing to pass on
    field.remove_prefix(5);
    if (field.starts_with(' ')) field.remove_prefix(1);
    if (!event_data_.empty()) event_data_.push_back('\n');
    event_data_.append(field);
  }
  if (event_data_.size() + lines_.pending().size() > kMaxEventBytes) fail(StreamFailure::garbled);
  return out;
}

void StreamSplicer::on_event(std::string_view data, std::string& out) {
  if (data == "[DONE]") {
    if (finished_) out.append(close_whole());
    else fail(StreamFailure::no_finish);
    return;
  }
  json chunk = json::parse(data, nullptr, false);
  if (chunk.is_discarded() || !chunk.is_object()) return fail(StreamFailure::garbled);
  if (chunk.contains("error")) return fail(StreamFailure::error_event);
  on_chunk(chunk, out);
}

void StreamSplicer::on_chunk(json& chunk, std::string& out) {
  if (first_id_.is_null()) {
    first_id_ = chunk.value("id", json());
    first_created_ = chunk.value("created", json());
    first_model_ = chunk.value("model", json());
  }
  auto usage = chunk.find("usage");
  if (usage != chunk.end() && usage->is_object()) {
    // The prompt as the client sent it is only the first engine's (or a request resent's).
    if (usage->contains("prompt_tokens") && is_count((*usage)["prompt_tokens"])) {
      uint64_t prompt = (*usage)["prompt_tokens"].get<uint64_t>();
      if (mode_ == Mode::request) prompt_tokens_ = prompt;
      // A text continuation's prompt is the client's and the answer before it, tokenized
      // again: the first engine's count, where it died before saying it.
      else if (mode_ == Mode::text && prompt_tokens_ == 0 && prompt >= before_engine_)
        prompt_tokens_ = prompt - before_engine_;
    }
    if (usage->contains("completion_tokens") && is_count((*usage)["completion_tokens"]))
      engine_usage_ = (*usage)["completion_tokens"].get<uint64_t>();
  }
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array() || choices->empty()) {  // usage alone
    if (!unmovable_.empty()) append_event(out, chunk);  // the engine's own, as it sent it
    return;
  }
  json& choice = (*choices)[0];
  if (!choice.is_object()) return fail(StreamFailure::garbled);

  // The prompt's ids come with the first engine's first chunk: in the choice (completions)
  // or beside the choices (chat).
  for (const json* holder : {&chunk, &choice}) {
    auto ids = holder->find("prompt_token_ids");
    if (passthrough_ && prompt_ids_.empty() && ids != holder->end() && ids->is_array()) {
      for (const auto& id : *ids)
        if (is_count(id)) prompt_ids_.push_back(id.get<uint32_t>());
      if (prompt_ids_.size() > limits_.max_tokens) unresumable_ = "the prompt is longer than maxMigratableTokens";
    }
  }

  std::string text;
  if (attempt_api_ == StreamApi::completions) {
    text = text_field(choice, "text");
  } else if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
    if (delta->contains("tool_calls") || delta->contains("reasoning_content"))
      unresumable_ = "a tool call or reasoning was streamed (it cannot be resumed)";
    auto content = delta->find("content");
    if (content != delta->end() && content->is_string()) text = content->get<std::string>();
  }
  auto ids = choice.find("token_ids");
  uint64_t tokens = 0;  // this chunk's
  if (ids != choice.end() && ids->is_array()) {
    for (const auto& id : *ids)
      if (is_count(id)) output_ids_.push_back(id.get<uint32_t>());
    tokens = ids->size();
  } else if (!text.empty()) {
    ids_missing_ = true;
    tokens = 1;  // vLLM streams one token per chunk unless told otherwise
  }
  generated_ += tokens;
  if (prompt_ids_.size() + generated_ > limits_.max_tokens) unresumable_ = "the answer is past maxMigratableTokens";
  if (limits_.text_fallback && unresumable_.empty()) answer_text_ += text;

  json finish = choice.value("finish_reason", json());
  if (finish == "abort") return fail(StreamFailure::abort);
  json stop_reason;
  if (!stop_spec_.strings.empty()) {
    text = stops_.add(text, tokens, finish.is_string());
    if (auto stop = stops_.stop_reason()) {
      finish = "stop";
      stop_reason = std::string(*stop);
    }
    if (attempt_api_ == StreamApi::completions) choice["text"] = text;
    else if (choice.contains("delta") && choice["delta"].is_object()) choice["delta"]["content"] = text;
  }
  if (finish.is_string()) finished_ = true;
  if (auto shown = client_chunk(chunk, text, finish)) {
    if (!stop_reason.is_null()) {
      json& c = (*shown)["choices"][0];
      c["finish_reason"] = "stop";
      c["stop_reason"] = stop_reason;
    }
    append_event(out, *shown);
  }
  if (!stop_reason.is_null()) {
    stopped_ = true;
    out.append(close_whole());
  }
}

std::optional<json> StreamSplicer::client_chunk(const json& chunk, std::string_view text,
                                                const json& finish_reason) {
  if (!text.empty()) text_sent_ = true;
  if (passthrough_) {
    // The engine answers as the client asked: its chunk, less what was added for us, under
    // the first answer's id (a re-sent request's engine has its own) and with one role.
    json shown = chunk;
    shown.erase("prompt_token_ids");
    if (unmovable_.empty()) shown.erase("usage");  // summed at the end instead
    shown["id"] = first_id_;
    shown["created"] = first_created_;
    shown["model"] = first_model_;
    json& choice = shown["choices"][0];
    choice.erase("token_ids");
    choice.erase("prompt_token_ids");
    auto delta = choice.find("delta");
    if (api_ == StreamApi::chat && delta != choice.end() && delta->is_object() && delta->contains("role")) {
      if (!role_sent_) {
        role_sent_ = true;
      } else {
        delta->erase("role");
        if (delta->empty() && finish_reason.is_null()) return std::nullopt;
      }
    }
    return shown;
  }
  if (text.empty() && finish_reason.is_null()) return std::nullopt;  // nothing for the client
  return own_chunk(text, finish_reason);
}

json StreamSplicer::own_chunk(std::string_view text, const json& finish_reason) {
  json choice = {{"index", 0}};
  if (api_ == StreamApi::chat) {
    json delta = {{"content", text}};
    if (!role_sent_) delta["role"] = "assistant";
    role_sent_ = true;
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason;
  return json{{"id", first_id_},
              {"object", api_ == StreamApi::chat ? "chat.completion.chunk" : "text_completion"},
              {"created", first_created_},
              {"model", first_model_},
              {"choices", json::array({std::move(choice)})}};
}

StreamFailure StreamSplicer::end() {
  if (closed_ || finished_) return StreamFailure::none;
  fail(StreamFailure::cut);  // a body that ended without `[DONE]`, however it ended
  return failure_;
}

std::string StreamSplicer::usage_events() const {
  if (!client_wants_usage_) return {};
  uint64_t prompt = prompt_tokens_ ? prompt_tokens_ : prompt_ids_.size();
  // The engine's own count where it gave one (its chunks may carry several tokens).
  uint64_t completion = engine_usage_ ? before_engine_ + *engine_usage_ : generated_;
  std::string out;
  append_event(out, {{"id", first_id_},
                     {"object", api_ == StreamApi::chat ? "chat.completion.chunk" : "text_completion"},
                     {"created", first_created_},
                     {"model", first_model_},
                     {"choices", json::array()},
                     {"usage",
                      {{"prompt_tokens", prompt},
                       {"completion_tokens", completion},
                       {"total_tokens", prompt + completion}}}});
  return out;
}

std::string StreamSplicer::close_whole() {
  closed_ = true;
  return (unmovable_.empty() ? usage_events() : std::string()).append("data: [DONE]\n\n");
}

std::string StreamSplicer::give_up(std::string_view why) {
  closed_ = true;
  std::string message = "the engine failed in the middle of this answer (";
  message.append(to_string(failure_)).append(") and it could not move to another engine: ").append(why);
  std::string out;
  if (auto rest = stops_.flush(); !rest.empty()) append_event(out, own_chunk(rest, nullptr));  // none is lost
  out.append("data: ");
  out.append(openai_error_body(502, message, openai_error_type(502))).append("\n\n");
  return out;
}

std::variant<StreamSplicer::Resume, StreamSplicer::Close> StreamSplicer::after_failure() {
  if (finished_) return Close{close_whole(), true, {}};
  if (!unmovable_.empty()) return Close{give_up(unmovable_), false, unmovable_};
  if (migrations_ >= limits_.max_migrations) {
    std::string why = "maxMigrations (" + std::to_string(limits_.max_migrations) + ") reached";
    return Close{give_up(why), false, why};
  }
  if (!unresumable_.empty()) return Close{give_up(unresumable_), false, unresumable_};
  if (passthrough_ && !text_sent_) {
    // Nothing of the answer went out yet (a role delta at most): the request itself goes again.
    prompt_ids_.clear();
    output_ids_.clear();
    generated_ = 0;
    ids_missing_ = false;
    answer_text_.clear();
    stops_ = StopStringFilter(stop_spec_);
    return continue_with(Mode::request, first_body());
  }
  if (max_tokens_ && generated_ >= *max_tokens_) {
    // Every token asked for was sent: the answer ends as the engine would have ended it.
    std::string out;
    append_event(out, own_chunk(stops_.flush(), "length"));
    finished_ = true;
    return Close{out + close_whole(), true, {}};
  }
  if (!ids_missing_ && !prompt_ids_.empty()) return continue_with(Mode::exact, dump(exact_body()));
  std::string why = ids_missing_ ? "the engine returned no token ids" : "the engine sent no prompt token ids";
  if (limits_.text_fallback) {
    if (auto body = text_body(why)) return continue_with(Mode::text, dump(*body));
  }
  return Close{give_up(why), false, why};
}


json StreamSplicer::exact_body() const {
  json body = json::object();
  for (const char* field : kCarried)
    if (present(request_, field)) body[field] = request_[field];
  std::vector<uint32_t> prompt = prompt_ids_;
  prompt.insert(prompt.end(), output_ids_.begin(), output_ids_.end());
  body["prompt"] = std::move(prompt);
  ask_for_the_rest(body, request_, max_tokens_, generated_);
  body["add_special_tokens"] = false;
  body["echo"] = false;
  return body;
}

std::optional<json> StreamSplicer::text_body(std::string& why) const {
  json body = request_;
  for (const char* field : kKeptFromEngines) body.erase(field);
  body.erase("max_completion_tokens");
  if (api_ == StreamApi::completions) {
    json& prompt = body["prompt"];
    if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) prompt = prompt[0];
    if (!prompt.is_string()) {
      why += ", and the prompt is not text";
      return std::nullopt;
    }
    prompt = prompt.get<std::string>() + answer_text_;
  } else {
    // The answer as the assistant's message to go on with (vLLM's continue_final_message).
    json& messages = body["messages"];
    bool own_prefill = is_true(request_, "continue_final_message") && !messages.empty() &&
                       messages.back().is_object() && messages.back().value("role", "") == "assistant" &&
                       messages.back()["content"].is_string();
    if (own_prefill)
      messages.back()["content"] = messages.back()["content"].get<std::string>() + answer_text_;
    else
      messages.push_back({{"role", "assistant"}, {"content", answer_text_}});
    body["continue_final_message"] = true;
    body["add_generation_prompt"] = false;
  }
  ask_for_the_rest(body, request_, max_tokens_, generated_);
  return body;
}

StreamSplicer::Resume StreamSplicer::continue_with(Mode mode, std::string body) {
  ++migrations_;
  mode_ = mode;
  passthrough_ = mode != Mode::exact;
  attempt_api_ = mode == Mode::exact ? StreamApi::completions : api_;
  before_engine_ = generated_;
  engine_usage_.reset();
  resent_ = mode == Mode::exact ? prompt_ids_.size() + output_ids_.size()
            : mode == Mode::text ? prompt_tokens_ + generated_
                                 : 0;
  failure_ = StreamFailure::none;
  start_reading();
  return Resume{std::move(body), mode};
}

}  // namespace duet::router
