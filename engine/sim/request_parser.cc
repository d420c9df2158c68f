#include "sim/request_parser.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "duet/common/token_estimate.h"
#include "sim/prompt_ids.h"
#include "sim/request_fields.h"

namespace duet::sim {

namespace {

using nlohmann::json;
constexpr std::size_t kMaxStopStrings = 4;  // OpenAI's limit

// A string, strings one after the other, or token ids (vLLM's list[int] prompt: what
// duet-router's exact continuation sends).
MaybeError check_prompt(const json& doc) {
  auto it = doc.find("prompt");
  if (it == doc.end() || it->is_null()) return missing_field("prompt");
  if (it->is_string()) return std::nullopt;
  if (!it->is_array() || it->empty())
    return wrong_field("prompt", "a string or a non-empty array of strings or of token ids", *it);
  if (is_token_id_prompt(*it)) return check_token_ids(*it, "prompt");
  for (std::size_t i = 0; i < it->size(); ++i)
    if (!(*it)[i].is_string())
      return wrong_field("prompt[" + std::to_string(i) + "]", "a string", (*it)[i]);
  return std::nullopt;
}

MaybeError read_return_token_ids(const json& doc, const RequestLimits& limits,
                                 InferenceRequest& out) {
  if (auto e = read_bool(doc, "return_token_ids", out.return_token_ids)) return e;
  out.return_token_ids = out.return_token_ids && limits.tokenize && limits.token_ids;
  return std::nullopt;
}

// vLLM's StreamOptions: only with `stream: true`; include_usage defaults to true there.
// (continuous_usage_stats is accepted and not acted on.)
MaybeError read_stream_options(const json& doc, InferenceRequest& out) {
  auto it = doc.find("stream_options");
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return wrong_field("stream_options", "an object or null", *it);
  if (!out.stream)
    return RequestError{400, "Stream options can only be defined when `stream=True`.", "stream_options"};
  auto usage = it->find("include_usage");
  if (usage == it->end() || usage->is_null()) {
    out.include_usage = true;
  } else if (!usage->is_boolean()) {
    return wrong_field("stream_options.include_usage", "a boolean", *usage);
  } else {
    out.include_usage = usage->get<bool>();
  }
  return std::nullopt;
}

MaybeError check_n(const json& doc) {
  auto it = doc.find("n");
  if (it == doc.end() || it->is_null() || *it == 1) return std::nullopt;
  return wrong_field("n", "1 (duet-sim generates one choice)", *it);
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
    return wrong_field(field, "a positive integer", *it);
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

// vLLM's `stop`: a string or a list of them (here up to 4, each non-empty, as OpenAI takes
// them), with include_stop_str_in_output.
MaybeError read_stop(const json& doc, StopSpec& out) {
  if (auto e = read_bool(doc, "include_stop_str_in_output", out.include_in_output)) return e;
  auto it = doc.find("stop");
  if (it == doc.end() || it->is_null()) return std::nullopt;
  static constexpr std::string_view kExpected = "a non-empty string or an array of up to 4 of them";
  if (it->is_string() && !it->get_ref<const std::string&>().empty()) {
    out.strings.push_back(it->get<std::string>());
    return std::nullopt;
  }
  if (!it->is_array() || it->size() > kMaxStopStrings) return wrong_field("stop", kExpected, *it);
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& stop = (*it)[i];
    if (!stop.is_string() || stop.get_ref<const std::string&>().empty())
      return wrong_field("stop[" + std::to_string(i) + "]", "a non-empty string", stop);
    out.strings.push_back(stop.get<std::string>());
  }
  return std::nullopt;
}

// vLLM's min_tokens: no stop string ends an answer before it has this many tokens.
MaybeError read_min_tokens(const json& doc, InferenceRequest& out) {
  auto it = doc.find("min_tokens");
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<uint64_t>() > out.max_tokens) {
    std::string expected = "an integer from 0 to max_tokens (";
    expected.append(std::to_string(out.max_tokens)).append(")");
    return wrong_field("min_tokens", expected, *it);
  }
  out.stop.min_tokens = it->get<uint64_t>();
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
  if (auto e = read_bool(doc, "stream", out.stream)) return *e;
  if (auto e = read_stream_options(doc, out)) return *e;
  if (auto e = check_n(doc)) return *e;
  if (auto e = read_max_tokens(doc, api, limits, out)) return *e;
  if (auto e = read_return_token_ids(doc, limits, out)) return *e;
  if (auto e = read_stop(doc, out.stop)) return *e;
  if (api == Api::chat)
    if (auto e = read_chat_render(doc, out.chat_render)) return *e;
  if (limits.tokenize) {
    out.prompt_ids = prompt_ids(api, doc, out.chat_render);
    out.prompt_tokens = out.prompt_ids.size();
  } else if (api == Api::completions && is_token_id_prompt(doc["prompt"])) {
    out.prompt_tokens = doc["prompt"].size();  // the latency model only counts them
  } else {
    out.prompt_tokens = estimate_prompt_tokens(doc);
  }
  if (auto e = check_context(api, limits, out)) return *e;
  if (auto e = read_min_tokens(doc, out)) return *e;
  return out;
}

}  // namespace duet::sim
