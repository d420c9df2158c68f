#include "sim/model/chat_template.h"

namespace duet::sim::model {

namespace {

constexpr TokenId kRoleSystem = 3, kRoleUser = 4, kRoleAssistant = 5, kRoleTool = 6;

void append_role(std::string_view role, std::vector<TokenId>& out) {
  if (role == "system" || role == "developer") return out.push_back(kRoleSystem);
  if (role == "user") return out.push_back(kRoleUser);
  if (role == "assistant") return out.push_back(kRoleAssistant);
  if (role == "tool") return out.push_back(kRoleTool);
  tokenize_into(role, out);
}

}  // namespace

std::vector<TokenId> render_chat(const std::vector<ChatMessage>& messages, ChatRender render) {
  std::vector<TokenId> out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    out.push_back(kMessageStart);
    append_role(messages[i].role, out);
    tokenize_into(messages[i].content, out);
    if (render.continue_final_message && i + 1 == messages.size()) return out;
    out.push_back(kMessageEnd);
  }
  if (render.add_generation_prompt) {
    out.push_back(kMessageStart);
    out.push_back(kRoleAssistant);
  }
  return out;
}

}  // namespace duet::sim::model
