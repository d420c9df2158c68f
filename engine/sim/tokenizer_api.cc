#include "sim/tokenizer_api.h"

#include <nlohmann/json.hpp>

#include "sim/model/answer_words.h"
#include "sim/prompt_ids.h"
#include "sim/request_fields.h"

namespace duet::sim {

namespace {

using nlohmann::json;

// vLLM's TokenizeChatRequest: the messages through the chat template.
std::variant<std::vector<model::TokenId>, RequestError> chat_tokens(const json& doc) {
  if (auto e = check_messages(doc)) return *e;
  model::ChatRender render;
  if (auto e = read_chat_render(doc, render)) return *e;
  return prompt_ids(Api::chat, doc, render);
}

// vLLM's TokenizeCompletionRequest: one string.
std::variant<std::vector<model::TokenId>, RequestError> prompt_tokens(const json& doc) {
  auto it = doc.find("prompt");
  if (it == doc.end() || it->is_null()) return missing_field("prompt");
  if (!it->is_string()) return wrong_field("prompt", "a string", *it);
  return model::tokenize(it->get_ref<const std::string&>());
}

}  // namespace

TokenizerAnswer tokenize_answer(std::string_view body, const RequestLimits& limits) {
  json doc;
  if (auto e = parse_document(body, doc)) return *e;
  if (auto e = check_model(doc, limits.model)) return *e;
  bool add_special_tokens = true;  // accepted; duet-sim's tokenizer adds no special tokens
  if (auto e = read_bool(doc, "add_special_tokens", add_special_tokens)) return *e;
  bool chat = doc.contains("messages") && !doc["messages"].is_null();
  auto tokens = chat ? chat_tokens(doc) : prompt_tokens(doc);
  if (auto* error = std::get_if<RequestError>(&tokens)) return *error;
  const auto& ids = std::get<std::vector<model::TokenId>>(tokens);
  return json{{"count", ids.size()}, {"max_model_len", limits.max_model_len}, {"tokens", ids}}
      .dump();
}

TokenizerAnswer detokenize_answer(std::string_view body, const RequestLimits& limits) {
  json doc;
  if (auto e = parse_document(body, doc)) return *e;
  if (auto e = check_model(doc, limits.model)) return *e;
  auto it = doc.find("tokens");
  if (it == doc.end() || it->is_null()) return missing_field("tokens");
  if (!it->is_array()) return wrong_field("tokens", "an array of token ids", *it);
  if (auto e = check_token_ids(*it, "tokens")) return *e;
  return json{{"prompt", model::detokenize(it->get<std::vector<model::TokenId>>())}}.dump();
}

}  // namespace duet::sim
