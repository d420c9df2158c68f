#include "sim/prompt_ids.h"

#include <nlohmann/json.hpp>

namespace duet::sim {

namespace {

// A message's content: a string, or the text of its parts one after the other.
std::string content_text(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (content.is_array())
    for (const auto& part : content)
      if (part.value("type", "") == "text") text += part.value("text", "");
  return text;
}

}  // namespace

bool is_token_id_prompt(const nlohmann::json& prompt) {
  return prompt.is_array() && !prompt.empty() && prompt[0].is_number_integer();
}

std::vector<model::TokenId> prompt_ids(Api api, const nlohmann::json& request,
                                       model::ChatRender render) {
  if (api == Api::chat) {
    std::vector<model::ChatMessage> messages;
    for (const auto& m : request.at("messages"))
      messages.push_back({m.value("role", ""), content_text(m.contains("content") ? m["content"] : nlohmann::json())});
    return model::render_chat(messages, render);
  }
  const auto& prompt = request.at("prompt");
  std::vector<model::TokenId> ids;
  if (prompt.is_string()) return model::tokenize(prompt.get<std::string>());
  if (is_token_id_prompt(prompt)) return prompt.get<std::vector<model::TokenId>>();
  for (const auto& piece : prompt) model::tokenize_into(piece.get<std::string>(), ids);
  return ids;
}

}  // namespace duet::sim
