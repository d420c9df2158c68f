#pragma once
// duet-sim's streamed answers as the engine's process tests read them: each token chunk's text
// and ids (return_token_ids), the prompt's ids, the closing choice and the usage.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/sim_process.h"

namespace duet::test {

struct StreamedAnswer {
  std::vector<uint32_t> prompt_ids;
  std::vector<uint32_t> ids;
  std::vector<std::string> texts;  // each token chunk's text, in order
  nlohmann::json closing;          // the choice that says finish_reason
  nlohmann::json usage;
  bool done = false;  // `data: [DONE]` came

  // Every chunk's text, joined.
  std::string text() const {
    std::string all;
    for (const auto& t : texts) all += t;
    if (closing.is_object()) all += chunk_text(closing);
    return all;
  }

  static std::string chunk_text(const nlohmann::json& choice) {
    if (choice.contains("delta")) return choice["delta"].value("content", "");
    return choice.value("text", "");
  }
};

inline StreamedAnswer read_streamed_answer(const std::string& body) {
  StreamedAnswer out;
  auto [events, done] = sse_events(body);
  out.done = done;
  for (const auto& e : events) {
    if (e.contains("prompt_token_ids"))
      out.prompt_ids = e["prompt_token_ids"].get<std::vector<uint32_t>>();
    if (e.contains("usage") && !e["usage"].is_null()) out.usage = e["usage"];
    if (!e.contains("choices") || e["choices"].empty()) continue;
    const auto& choice = e["choices"][0];
    if (choice.contains("prompt_token_ids"))
      out.prompt_ids = choice["prompt_token_ids"].get<std::vector<uint32_t>>();
    if (!choice.value("finish_reason", nlohmann::json()).is_null()) {
      out.closing = choice;
      continue;
    }
    for (const auto& id : choice.value("token_ids", nlohmann::json::array()))
      out.ids.push_back(id.get<uint32_t>());
    out.texts.push_back(StreamedAnswer::chunk_text(choice));
  }
  return out;
}

// `request` streamed to `target` (return_token_ids as `ids` says), read once it ended.
inline StreamedAnswer stream_answer(SimProcess& sim, std::string_view target,
                                    nlohmann::json request, bool ids = true) {
  request["stream"] = true;
  if (ids) request["return_token_ids"] = true;
  StreamClient client;
  auto stream = client.open(sim.address(), target, request.dump());
  EXPECT_TRUE(eventually([&] { return stream->ended(); }, std::chrono::seconds(10)));
  EXPECT_FALSE(stream->error()) << stream->error().message();
  return read_streamed_answer(stream->body());
}

}  // namespace duet::test
