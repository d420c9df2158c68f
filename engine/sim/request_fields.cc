#include "sim/request_fields.h"

#include <nlohmann/json.hpp>

#include "duet/common/json_parse_path.h"
#include "duet/common/utf8.h"
#include "sim/model/tokenizer.h"

namespace duet::sim {

namespace {

using nlohmann::json;

// What a wrong value was, short enough for an error message.
std::string describe(const json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

MaybeError check_content_parts(const json& parts, const std::string& path) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const json& part = parts[i];
    std::string at = path + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return wrong_field(at, "an object", part);
    auto type = part.find("type");
    if (type == part.end() || !type->is_string())
      return wrong_field(at + ".type", "a string", type == part.end() ? json() : *type);
    auto text = part.find("text");
    if (*type == "text" && (text == part.end() || !text->is_string()))
      return wrong_field(at + ".text", "a string", text == part.end() ? json() : *text);
  }
  return std::nullopt;
}

MaybeError check_message(const json& message, const std::string& path) {
  if (!message.is_object()) return wrong_field(path, "an object", message);
  auto role = message.find("role");
  if (role == message.end()) return missing_field(path + ".role");
  if (!role->is_string()) return wrong_field(path + ".role", "a string", *role);
  auto content = message.find("content");
  if (content == message.end() || content->is_null() || content->is_string()) return std::nullopt;
  if (!content->is_array())
    return wrong_field(path + ".content", "a string, an array of parts or null", *content);
  return check_content_parts(*content, path + ".content");
}

}  // namespace

RequestError wrong_field(const std::string& param, std::string_view expected, const json& got) {
  return {400, param + ": expected " + std::string(expected) + ", got " + describe(got), param};
}

RequestError missing_field(const std::string& param) { return {400, param + ": required", param}; }

MaybeError read_bool(const json& doc, const char* field, bool& out) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return wrong_field(field, "a boolean", *it);
  out = it->get<bool>();
  return std::nullopt;
}

MaybeError check_token_ids(const json& ids, const char* field) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const json& id = ids[i];
    if (id.is_number_integer() && id.get<int64_t>() >= 0 &&
        id.get<int64_t>() < model::kVocabularySize)
      continue;
    std::string at = field;
    at.append("[").append(std::to_string(i)).append("]");
    return wrong_field(at, "a token id from 0 to " + std::to_string(model::kVocabularySize - 1),
                       id);
  }
  return std::nullopt;
}

MaybeError check_messages(const json& doc) {
  auto it = doc.find("messages");
  if (it == doc.end() || it->is_null()) return missing_field("messages");
  if (!it->is_array() || it->empty()) return wrong_field("messages", "a non-empty array", *it);
  for (std::size_t i = 0; i < it->size(); ++i)
    if (auto error = check_message((*it)[i], "messages[" + std::to_string(i) + "]")) return error;
  return std::nullopt;
}

MaybeError check_model(const json& doc, std::string_view served) {
  auto it = doc.find("model");
  if (it == doc.end() || it->is_null()) return std::nullopt;  // vLLM serves its model then
  if (!it->is_string()) return wrong_field("model", "a string", *it);
  const auto& name = it->get_ref<const std::string&>();
  if (name == served) return std::nullopt;
  return RequestError{404, "The model `" + name + "` does not exist.", "model"};
}

// vLLM refuses continue_final_message with add_generation_prompt (true by default); duet-sim
// also wants the message it continues to be the assistant's, as a prefill is.
MaybeError read_chat_render(const json& doc, model::ChatRender& out) {
  if (auto e = read_bool(doc, "add_generation_prompt", out.add_generation_prompt)) return e;
  if (auto e = read_bool(doc, "continue_final_message", out.continue_final_message)) return e;
  if (!out.continue_final_message) return std::nullopt;
  static constexpr const char* kField = "continue_final_message";
  if (out.add_generation_prompt)
    return RequestError{
        400, "Cannot set both `continue_final_message` and `add_generation_prompt` to True.",
        kField};
  const std::string role = doc.at("messages").back().value("role", "");
  if (role == "assistant") return std::nullopt;
  std::string message =
      "continue_final_message: the final message must have role \"assistant\", got ";
  message.append(describe(json(role)));
  return RequestError{400, std::move(message), kField};
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

}  // namespace duet::sim
