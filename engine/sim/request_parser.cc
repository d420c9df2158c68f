#include "sim/request_parser.h"

#include "sim/prompt_ids.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "duet/common/json_parse_path.h"
#include "duet/common/token_estimate.h"
#include "duet/common/utf8.h"

namespace duet::sim {

namespace {

using nlohmann::json;
using MaybeError = std::optional<RequestError>;

// What a wrong value was, short enough for an error message.
std::string describe(const json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

RequestError wrong(const std::string& param, std::string_view expected, const json& got) {
  return {400, param + ": expected " + std::string(expected) + ", got " + describe(got), param};
}

RequestError missing(const std::string& param) { return {400, param + ": required", param}; }

// A string, strings one after the other, or token ids (vLLM's list[int] prompt: what
// duet-router's exact continuation sends).
MaybeError check_prompt(const json& doc) {
  auto it = doc.find("prompt");
  if (it == doc.end() || it->is_null()) return missing("prompt");
  if (it->is_string()) return std::nullopt;
  if (!it->is_array() || it->empty())
    return wrong("prompt", "a string or a non-empty array of strings or of token ids", *it);
  bool ids = is_token_id_prompt(*it);
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& piece = (*it)[i];
    std::string at = "prompt[" + std::to_string(i) + "]";
    if (!ids && !piece.is_string()) return wrong(at, "a string", piece);
    if (ids && !(piece.is_number_integer() && piece.get<int64_t>() >= 0 &&
                 piece.get<int64_t>() < model::kVocabularySize))
      return wrong(at, "a token id from 0 to " + std::to_string(model::kVocabularySize - 1), piece);
  }
  return std::nullopt;
}

MaybeError read_return_token_ids(const json& doc, const RequestLimits& limits, InferenceRequest& out) {
  auto it = doc.find("return_token_ids");
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return wrong("return_token_ids", "a boolean", *it);
  out.return_token_ids = it->get<bool>() && limits.tokenize && limits.token_ids;
  return std::nullopt;
}

MaybeError check_content_parts(const json& parts, const std::string& path) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const json& part = parts[i];
    std::string at = path + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return wrong(at, "an object", part);
    auto type = part.find("type");
    if (type == part.end() || !type->is_string())
      return wrong(at + ".type", "a string", type == part.end() ? json() : *type);
    auto text = part.find("text");
    if (*type == "text" && (text == part.end() || !text->is_string()))
      return wrong(at + ".text", "a string", text == part.end() ? json() : *text);
  }
  return std::nullopt;
}

MaybeError check_message(const json& message, const std::string& path) {
  if (!message.is_object()) return wrong(path, "an object", message);
  auto role = message.find("role");
  if (role == message.end()) return missing(path + ".role");
  if (!role->is_string()) return wrong(path + ".role", "a string", *role);
  auto content = message.find("content");
  if (content == message.end() || content->is_null() || content->is_string()) return std::nullopt;
  if (!content->is_array())
    return wrong(path + ".content", "a string, an array of parts or null", *content);
  return check_content_parts(*content, path + ".content");
}

MaybeError check_messages(const json& doc) {
  auto it = doc.find("messages");
  if (it == doc.end() || it->is_null()) return missing("messages");
  if (!it->is_array() || it->empty()) return wrong("messages", "a non-empty array", *it);
  for (std::size_t i = 0; i < it->size(); ++i)
    if (auto error = check_message((*it)[i], "messages[" + std::to_string(i) + "]")) return error;
  return std::nullopt;
}

MaybeError check_model(const json& doc, std::string_view served) {
  auto it = doc.find("model");
  if (it == doc.end() || it->is_null()) return std::nullopt;  // vLLM serves its model then
  if (!it->is_string()) return wrong("model", "a string", *it);
  const auto& name = it->get_ref<const std::string&>();
  if (name == served) return std::nullopt;
  return RequestError{404, "The model `" + name + "` does not exist.", "model"};
}

MaybeError read_stream(const json& doc, InferenceRequest& out) {
  auto it = doc.find("stream");
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return wrong("stream", "a boolean", *it);
  out.stream = it->get<bool>();
  return std::nullopt;
}

// vLLM's StreamOptions: only with `stream: true`; include_usage defaults to true there.
// (continuous_usage_stats is accepted and not acted on.)
MaybeError read_stream_options(const json& doc, InferenceRequest& out) {
  auto it = doc.find("stream_options");
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return wrong("stream_options", "an object or null", *it);
  if (!out.stream)
    return RequestError{400, "Stream options can only be defined when `stream=True`.", "stream_options"};
  auto usage = it->find("include_usage");
  if (usage == it->end() || usage->is_null()) {
    out.include_usage = true;
  } else if (!usage->is_boolean()) {
    return wrong("stream_options.include_usage", "a boolean", *usage);
  } else {
    out.include_usage = usage->get<bool>();
  }
  return std::nullopt;
}

MaybeError check_n(const json& doc) {
  auto it = doc.find("n");
  if (it == doc.end() || it->is_null() || *it == 1) return std::nullopt;
  return wrong("n", "1 (duet-sim generates one choice)", *it);
}

MaybeError read_max_tokens(const json& doc, Api api, const RequestLimits& limits,
                           InferenceRequest& out) {
  // Chat requests may use OpenAI's newer name; it wins when both are present.
  std::string field = "max_tokens";
  if (api == Api::chat && doc.contains("max_completion_tokens")) field = "max_completion_tokens";
  auto it = doc.find(field);
  out.max_tokens_given = it != doc.end() && !it->is_null();
  if (!out.max_tokens_given) {
    out.max_tokens = limits.default_max_tokens;
    return std::nullopt;
  }
  if (!it->is_number_integer() || it->get<int64_t>() <= 0)
    return wrong(field, "a positive integer", *it);
  out.max_tokens = it->get<uint64_t>();
  return std::nullopt;
}

// vLLM refuses a request whose prompt and output do not fit the context; so does the sim.
MaybeError check_context(Api api, const RequestLimits& limits, InferenceRequest& out) {
  std::string_view prompt_field = api == Api::chat ? "messages" : "prompt";
  uint64_t total = out.prompt_tokens + out.max_tokens;
  if (total <= limits.max_model_len) return std::nullopt;
  if (!out.max_tokens_given && out.prompt_tokens < limits.max_model_len) {
    out.max_tokens = limits.max_model_len - out.prompt_tokens;  // a default shrinks to fit
    return std::nullopt;
  }
  return RequestError{
      400,
      "This model's maximum context length is " + std::to_string(limits.max_model_len) +
          " tokens. However, you requested " + std::to_string(total) + " tokens (" +
          std::to_string(out.prompt_tokens) + " in the " + std::string(prompt_field) + ", " +
          std::to_string(out.max_tokens) + " in the completion). Please reduce the length of the " +
          std::string(prompt_field) + " or completion.",
      out.max_tokens_given ? "max_tokens" : std::string(prompt_field)};
}

MaybeError parse_document(std::string_view body, json& doc) {
  if (auto bad = first_invalid_utf8(body))
    return RequestError{400, "request body is not valid UTF-8 (byte " + std::to_string(*bad) + ")",
                        ""};
  JsonParsePath at;
  try {
    doc = json::parse(body, [&](int, json::parse_event_t event, json& parsed) {
      at.observe(event, parsed);
      return true;
    });
  } catch (const json::parse_error& e) {
    return RequestError{400, std::string("request body is not valid JSON: ") + e.what(), ""};
  } catch (const json::exception& e) {
    // Valid syntax the parser still refuses, like a number past double (1e309): name the field.
    std::string param = at.path();
    return RequestError{400, (param.empty() ? "request body" : param) + ": " + json_error_text(e),
                        param};
  }
  if (!doc.is_object()) return RequestError{400, "request body must be a JSON object", ""};
  return std::nullopt;
}

}  // namespace

ParseResult parse_request(Api api, std::string_view body, const RequestLimits& limits) {
  json doc;
  InferenceRequest out;
  out.api = api;
  if (auto e = parse_document(body, doc)) return *e;
  if (auto e = api == Api::chat ? check_messages(doc) : check_prompt(doc)) return *e;
  if (auto e = check_model(doc, limits.model)) return *e;
  if (auto e = read_stream(doc, out)) return *e;
  if (auto e = read_stream_options(doc, out)) return *e;
  if (auto e = check_n(doc)) return *e;
  if (auto e = read_max_tokens(doc, api, limits, out)) return *e;
  if (auto e = read_return_token_ids(doc, limits, out)) return *e;
  if (limits.tokenize) {
    out.prompt_ids = prompt_ids(api, doc);
    out.prompt_tokens = out.prompt_ids.size();
  } else if (api == Api::completions && is_token_id_prompt(doc["prompt"])) {
    out.prompt_tokens = doc["prompt"].size();  // the latency model only counts them
  } else {
    out.prompt_tokens = estimate_prompt_tokens(doc);
  }
  if (auto e = check_context(api, limits, out)) return *e;
  return out;
}

}  // namespace duet::sim
