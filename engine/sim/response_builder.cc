#include "sim/response_builder.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <span>

#include "sim/sse.h"

namespace duet::sim {

namespace {

void append_usage(std::string& out, const Usage& usage) {
  out.append(",\"usage\":{\"prompt_tokens\":")
      .append(std::to_string(usage.prompt_tokens))
      .append(",\"total_tokens\":")
      .append(std::to_string(usage.prompt_tokens + usage.completion_tokens))
      .append(",\"completion_tokens\":")
      .append(std::to_string(usage.completion_tokens));
  if (usage.cached_tokens)
    out.append(",\"prompt_tokens_details\":{\"cached_tokens\":").append(std::to_string(*usage.cached_tokens)).append("}");
  out.append("}");
}

void append_ids(std::string& out, std::string_view name, std::span<const uint32_t> ids) {
  out.append(",\"").append(name).append("\":[");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(',');
    out.append(std::to_string(ids[i]));
  }
  out.push_back(']');
}

void append_finish(std::string& out, std::string_view finish_reason) {
  out.append(",\"logprobs\":null,\"finish_reason\":");
  if (finish_reason.empty())
    out.append("null");
  else
    out.append("\"").append(finish_reason).append("\"");
}

}  // namespace

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string token_text(uint64_t index) { return " tok" + std::to_string(index); }

std::string response_id(Api api, uint64_t value) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(value));
  return (api == Api::chat ? "chatcmpl-" : "cmpl-") + std::string(hex);
}

StreamUsage stream_usage(const InferenceRequest& request) {
  if (!request.include_usage) return StreamUsage::closing_chunk;
  return *request.include_usage ? StreamUsage::own_chunk : StreamUsage::none;
}

ResponseBuilder::ResponseBuilder(Api api, std::string id, int64_t created,
                                 std::string_view model_json, StreamUsage usage)
    : api_(api), id_(std::move(id)), created_(created), model_json_(model_json), stream_usage_(usage) {}

std::string ResponseBuilder::envelope(std::string_view object) const {
  std::string out;
  out.reserve(160);
  out.append("{\"id\":\"")
      .append(id_)
      .append("\",\"object\":\"")
      .append(object)
      .append("\",\"created\":")
      .append(std::to_string(created_))
      .append(",\"model\":")
      .append(model_json_);
  return out;
}

std::string ResponseBuilder::head(std::string_view object) const {
  return envelope(object).append(",\"choices\":[{\"index\":0,");
}

std::string_view ResponseBuilder::chunk_object() const {
  return api_ == Api::chat ? "chat.completion.chunk" : "text_completion";
}

std::string_view ResponseBuilder::text_of(uint64_t index, std::string& scratch) const {
  if (token_texts_ && index < token_texts_->size()) return (*token_texts_)[index];
  scratch = token_text(index);
  return scratch;
}

// After finish_reason, as vLLM puts it in a choice; the stop string is the client's, so escaped.
void ResponseBuilder::append_stop_reason(std::string& out, const Ending& ending) const {
  if (!report_stop_reason_) return;
  out.append(",\"stop_reason\":");
  if (ending.stop_reason)
    out.append(nlohmann::json(std::string(*ending.stop_reason)).dump());
  else
    out.append("null");
}

std::string ResponseBuilder::whole(const Ending& ending) const {
  std::string text;
  std::string scratch;
  for (uint64_t i = 0; i < ending.tokens; ++i) text += text_of(i, scratch);
  return whole_text(text, ending);
}

std::string ResponseBuilder::whole_text(std::string_view text, const Ending& ending) const {
  std::string out;
  if (api_ == Api::chat) {
    out = head("chat.completion");
    out.append("\"message\":{\"role\":\"assistant\",\"content\":\"").append(text).append("\"}");
  } else {
    out = head("text_completion");
    out.append("\"text\":\"").append(text).append("\"");
  }
  append_finish(out, ending.finish_reason);
  append_stop_reason(out, ending);
  out.append("}]");
  append_usage(out, ending.usage);
  out.append("}");
  return out;
}

std::string ResponseBuilder::token_chunk(uint64_t index) const {
  std::string scratch;
  return text_chunk(text_of(index, scratch), index == 0);
}

std::string ResponseBuilder::text_chunk(std::string_view text, bool first,
                                        std::optional<uint32_t> token_id) const {
  bool ids = prompt_ids_ && token_id;
  std::string out;
  if (api_ == Api::chat) {
    out = head("chat.completion.chunk");
    // The role comes once, with the first token, as in OpenAI's streams.
    out.append(first ? "\"delta\":{\"role\":\"assistant\",\"content\":\""
                     : "\"delta\":{\"content\":\"")
        .append(text)
        .append("\"}");
  } else {
    out = head("text_completion");
    out.append("\"text\":\"").append(text).append("\"");
    if (ids && first) append_ids(out, "prompt_token_ids", *prompt_ids_);
  }
  if (ids) append_ids(out, "token_ids", {&*token_id, 1});
  append_finish(out, {});
  out.append("}]");
  if (ids && first && api_ == Api::chat) append_ids(out, "prompt_token_ids", *prompt_ids_);
  out.append("}");
  return out;
}

std::string ResponseBuilder::final_chunk(const Ending& ending) const {
  std::string out = head(chunk_object());
  out.append(api_ == Api::chat ? "\"delta\":{}" : "\"text\":\"\"");
  append_finish(out, ending.finish_reason);
  append_stop_reason(out, ending);
  out.append("}]");
  if (stream_usage_ == StreamUsage::closing_chunk) append_usage(out, ending.usage);
  out.append("}");
  return out;
}

std::string ResponseBuilder::usage_chunk(const Ending& ending) const {
  std::string out = envelope(chunk_object());
  out.append(",\"choices\":[]");
  append_usage(out, ending.usage);
  out.append("}");
  return out;
}

std::string ResponseBuilder::closing_events(const Ending& ending) const {
  std::string out;
  append_sse_event(out, final_chunk(ending));
  if (stream_usage_ == StreamUsage::own_chunk) append_sse_event(out, usage_chunk(ending));
  out.append(kSseDone);
  return out;
}

std::string ResponseBuilder::sse_events(uint64_t from, uint64_t to, const Ending& ending) const {
  std::string out;
  for (uint64_t i = from; i < to; ++i) append_sse_event(out, token_chunk(i));
  if (to >= ending.tokens) out.append(closing_events(ending));
  return out;
}

}  // namespace duet::sim
