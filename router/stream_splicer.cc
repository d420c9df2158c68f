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
                                    "repetition_penalty", "stop", "stop_token_ids", "ignore_eos",
                                    "skip_special_tokens", "user"};

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

void append_event(std::string& out, const json& data) {
  out.append("data: ").append(data.dump(-1, ' ', false, json::error_handler_t::replace)).append("\n\n");
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

StreamSplicer::StreamSplicer(StreamApi api, json request, Limits limits)
    : api_(api),
      request_(std::move(request)),
      limits_(limits),
      client_wants_usage_(wants_usage(request_)),
      max_tokens_(client_max_tokens(api, request_)),
      attempt_api_(api) {}

std::variant<StreamSplicer, std::string> StreamSplicer::begin(StreamApi api, const json& request,
                                                              Limits limits) {
  if (auto why = ineligible(api, request); !why.empty()) return why;
  return StreamSplicer(api, request, limits);
}

StreamSplicer StreamSplicer::relay_only(StreamApi api, const json& request, std::string why) {
  StreamSplicer s(api, request, {0, 0});
  s.unmovable_ = std::move(why);
  return s;
}

std::string StreamSplicer::first_body() const {
  json body = request_;
  body["return_token_ids"] = true;
  if (!body["stream_options"].is_object()) body["stream_options"] = json::object();
  body["stream_options"]["include_usage"] = true;  // the usage is summed here, then given
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
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
  if (passthrough_ && usage != chunk.end() && usage->is_object() && usage->contains("prompt_tokens") &&
      is_count((*usage)["prompt_tokens"]))
    prompt_tokens_ = (*usage)["prompt_tokens"].get<uint64_t>();
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
      if (prompt_ids_.size() > limits_.max_tokens) missing_ids_ = "the prompt is longer than maxMigratableTokens";
    }
  }

  std::string text;
  if (attempt_api_ == StreamApi::completions) {
    text = text_field(choice, "text");
  } else if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
    if (delta->contains("tool_calls") || delta->contains("reasoning_content"))
      missing_ids_ = "a tool call or reasoning was streamed (it cannot be resumed)";
    auto content = delta->find("content");
    if (content != delta->end() && content->is_string()) text = content->get<std::string>();
  }
  auto ids = choice.find("token_ids");
  if (ids != choice.end() && ids->is_array()) {
    for (const auto& id : *ids)
      if (is_count(id)) output_ids_.push_back(id.get<uint32_t>());
    if (prompt_ids_.size() + output_ids_.size() > limits_.max_tokens)
      missing_ids_ = "the answer is past maxMigratableTokens";
  } else if (!text.empty()) {
    missing_ids_ = "the engine returned no token ids";
  }

  const json finish = choice.value("finish_reason", json());
  if (finish == "abort") return fail(StreamFailure::abort);
  if (finish.is_string()) finished_ = true;
  if (auto shown = client_chunk(chunk, text, finish)) append_event(out, *shown);
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
  uint64_t completion = output_ids_.size();
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
  std::string out = "data: ";
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
  if (!missing_ids_.empty()) return Close{give_up(missing_ids_), false, missing_ids_};
  if (passthrough_ && !text_sent_) {
    // Nothing of the answer went out yet (a role delta at most): the request itself goes again.
    ++migrations_;
    failure_ = StreamFailure::none;
    start_reading();
    prompt_ids_.clear();
    output_ids_.clear();
    return Resume{first_body(), true};
  }
  if (prompt_ids_.empty()) {
    std::string why = "the engine sent no prompt token ids";
    return Close{give_up(why), false, why};
  }
  if (max_tokens_ && output_ids_.size() >= *max_tokens_) {
    // Every token asked for was sent: the answer ends as the engine would have ended it.
    std::string out;
    append_event(out, own_chunk("", "length"));
    finished_ = true;
    return Close{out + close_whole(), true, {}};
  }
  uint64_t generated = output_ids_.size();
  json body = json::object();
  for (const char* field : kCarried)
    if (present(request_, field)) body[field] = request_[field];
  std::vector<uint32_t> prompt = prompt_ids_;
  prompt.insert(prompt.end(), output_ids_.begin(), output_ids_.end());
  body["prompt"] = std::move(prompt);
  if (max_tokens_) body["max_tokens"] = *max_tokens_ - generated;
  if (auto it = request_.find("min_tokens"); it != request_.end() && is_count(*it))
    body["min_tokens"] = it->get<uint64_t>() > generated ? it->get<uint64_t>() - generated : 0;
  // A seeded request stays reproducible across the seam (design B: seed XOR generated).
  if (auto it = request_.find("seed"); it != request_.end() && it->is_number_integer())
    body["seed"] = it->get<int64_t>() ^ static_cast<int64_t>(generated);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["return_token_ids"] = true;
  body["add_special_tokens"] = false;
  body["echo"] = false;

  ++migrations_;
  passthrough_ = false;
  attempt_api_ = StreamApi::completions;
  failure_ = StreamFailure::none;
  start_reading();
  return Resume{body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

}  // namespace duet::router
