#include "router/request_body.h"

#include <simdjson.h>

#include <optional>
#include <cstring>
#include <vector>

#include "duet/common/token_estimate.h"
#include "router/prefix_index.h"

namespace duet::router {

namespace dom = simdjson::dom;

namespace {

// simdjson reads up to SIMDJSON_PADDING bytes past the end: each worker thread copies the
// body into a padded buffer of its own, and keeps one parser (its buffers grow to the
// largest body seen). The DOM parser picks the widest SIMD the CPU has at run time.
struct ThreadScanner {
  dom::parser parser;
  std::vector<uint8_t> buffer;

  simdjson::simdjson_result<dom::element> parse(std::string_view text) {
    if (buffer.size() < text.size() + simdjson::SIMDJSON_PADDING)
      buffer.resize(text.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(buffer.data(), text.data(), text.size());
    return parser.parse(buffer.data(), text.size(), false);
  }
};

ThreadScanner& scanner() {
  thread_local ThreadScanner s;
  return s;
}

// The last value of `key` in `object` (a repeated key's last value counts, as in nlohmann).
std::optional<dom::element> last(dom::object object, std::string_view key) {
  std::optional<dom::element> found;
  for (auto field : object)
    if (field.key == key) found = field.value;
  return found;
}

uint64_t text_tokens(dom::element text) { return estimate_text_tokens(std::string_view(text)); }

// A prompt or a message's content: a string, or an array of strings and {"text": ...} parts.
uint64_t content_tokens(dom::element value) {
  if (value.is_string()) return text_tokens(value);
  if (!value.is_array()) return 0;
  uint64_t total = 0;
  for (dom::element part : dom::array(value)) {
    if (part.is_string()) {
      total += text_tokens(part);
    } else if (part.is_object()) {
      auto text = last(dom::object(part), "text");
      if (text && text->is_string()) total += text_tokens(*text);
    }
  }
  return total;
}

uint64_t messages_tokens(dom::element messages) {
  if (!messages.is_array()) return 0;
  uint64_t total = 0;
  for (dom::element message : dom::array(messages)) {
    if (!message.is_object()) continue;
    if (auto content = last(dom::object(message), "content")) total += content_tokens(*content);
  }
  return total;
}

// max_tokens counts only as a non-negative integer (nlohmann's number_unsigned).
std::optional<uint64_t> count(const std::optional<dom::element>& value) {
  if (!value) return std::nullopt;
  auto type = value->type();
  bool integer = type == dom::element_type::INT64 || type == dom::element_type::UINT64;
  uint64_t n = 0;
  if (!integer || value->get_uint64().get(n) != simdjson::SUCCESS) return std::nullopt;
  return n;
}

// The fields of the request that routing reads, each the last of its name, found in one
// pass over the object (one pass per field took a tenth of a 4 KB decision).
struct RequestFields {
  std::optional<dom::element> model, prompt, messages, max_tokens, max_completion_tokens;
};

RequestFields fields_of(dom::object request) {
  RequestFields f;
  for (auto field : request) {
    std::string_view key = field.key;
    if (key == "model")
      f.model = field.value;
    else if (key == "prompt")
      f.prompt = field.value;
    else if (key == "messages")
      f.messages = field.value;
    else if (key == "max_tokens")
      f.max_tokens = field.value;
    else if (key == "max_completion_tokens")
      f.max_completion_tokens = field.value;
  }
  return f;
}

// Adds a prompt or a message's content as text: a string, or its string and text parts.
void append_content(dom::element value, PrefixChunker& chunker) {
  if (value.is_string()) return chunker.append(std::string_view(value));
  if (!value.is_array()) return;
  for (dom::element part : dom::array(value)) {
    if (part.is_string()) {
      chunker.append(std::string_view(part));
    } else if (part.is_object()) {
      auto text = last(dom::object(part), "text");
      if (text && text->is_string()) chunker.append(std::string_view(*text));
    }
  }
}

// The prompt as text (a chat's roles and contents in order), cut into prefix chunks.
void append_prompt_chunks(const RequestFields& request, std::vector<uint64_t>& chunks) {
  PrefixChunker chunker(chunks);
  if (request.prompt) {
    append_content(*request.prompt, chunker);
  } else if (request.messages && request.messages->is_array()) {
    for (dom::element message : dom::array(*request.messages)) {
      if (!message.is_object()) continue;
      if (auto role = last(dom::object(message), "role"); role && role->is_string())
        chunker.append(std::string_view(*role));
      chunker.append("\x1f");  // so that role and content cannot run into each other
      if (auto content = last(dom::object(message), "content")) append_content(*content, chunker);
      chunker.append("\x1e");
    }
  }
}

}  // namespace

const std::vector<uint64_t>& RequestBody::prefix_chunks() {
  if (scanned_ && want_chunks_) return chunks_;
  // Again when model() or tokens() scanned without chunks: the parser's tree is gone by now.
  want_chunks_ = true;
  scan();
  return chunks_;
}

void RequestBody::scan() {
  scanned_ = true;
  if (text_.empty()) return;  // a GET: no body, not malformed JSON
  dom::element doc;
  if (scanner().parse(text_).get(doc) != simdjson::SUCCESS) {
    malformed_ = true;
    return;
  }
  if (!doc.is_object()) return;  // JSON, but no request fields
  RequestFields request = fields_of(dom::object(doc));
  if (request.model && request.model->is_string()) model_ = std::string_view(*request.model);
  if (request.prompt)
    prompt_tokens_ = content_tokens(*request.prompt);  // prompt wins over messages
  else if (request.messages)
    prompt_tokens_ = messages_tokens(*request.messages);
  auto max = count(request.max_tokens);
  if (!max) max = count(request.max_completion_tokens);
  max_tokens_ = max.value_or(0);
  if (want_chunks_) append_prompt_chunks(request, chunks_);
}

uint64_t RequestBody::prompt_tokens() {
  if (!scanned_) scan();
  return prompt_tokens_;
}

std::string_view RequestBody::model() {
  needed_ = true;
  if (!scanned_) scan();
  return model_;
}

uint64_t RequestBody::tokens() {
  needed_ = true;
  if (!scanned_) scan();
  return prompt_tokens_ + max_tokens_;
}

}  // namespace duet::router
