// duet-sim's engine model, piece by piece and by hand: the tokenizer and chat template keep
// a conversation's earlier turns token for token; the KV cache shares prefixes, never holds
// more than its blocks and evicts the least recently freed; the batch scheduler batches,
// chunks prompts, preempts when blocks run out and still finishes every sequence.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "sim/model/answer_words.h"
#include "sim/model/batch_scheduler.h"
#include "sim/model/chat_template.h"
#include "sim/model/device_profile.h"
#include "sim/model/kv_cache.h"
#include "sim/model/tokenizer.h"

namespace duet::sim::model {
namespace {

using namespace std::chrono_literals;

bool starts_with(const std::vector<TokenId>& all, const std::vector<TokenId>& head) {
  return head.size() <= all.size() && std::equal(head.begin(), head.end(), all.begin());
}

std::vector<TokenId> counting(std::size_t n, TokenId from = 100) {
  std::vector<TokenId> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = from + static_cast<TokenId>(i);
  return t;
}

TEST(SimTokenizer, IsStableAndKeepsThePrefixOfLongerText) {
  auto short_text = tokenize("The quick brown fox, jumped");
  auto long_text = tokenize("The quick brown fox, jumped over the lazy dog.");
  EXPECT_EQ(short_text, tokenize("The quick brown fox, jumped"));
  EXPECT_TRUE(starts_with(long_text, short_text));
  EXPECT_NE(tokenize("fox"), tokenize("dog"));
  // About one token per 4-5 characters of English, as BPE gives.
  std::string prose = "Large language models are served on accelerators by engines such as vLLM, "
                      "which batch requests continuously and keep a paged cache of attention keys.";
  auto n = tokenize(prose).size();
  EXPECT_GT(n, prose.size() / 7);
  EXPECT_LT(n, prose.size() / 3);
  for (auto id : tokenize(prose)) EXPECT_GE(id, kFirstTextToken);
}

TEST(SimChatTemplate, AConversationResentWithItsAnswerSharesEveryEarlierToken) {
  std::vector<ChatMessage> turn1 = {{"system", "You are terse."}, {"user", "Name a prime."}};
  auto first = render_chat(turn1);
  std::vector<TokenId> answer;
  std::string answer_string;
  for (int i = 0; i < 6; ++i) {
    std::vector<TokenId> so_far = first;
    so_far.insert(so_far.end(), answer.begin(), answer.end());
    answer.push_back(next_token(so_far));
    answer_string += answer_text(answer.back());
  }
  auto turn2 = turn1;
  turn2.push_back({"assistant", answer_string});
  turn2.push_back({"user", "Another?"});
  auto second = render_chat(turn2);
  auto expected_head = first;
  expected_head.insert(expected_head.end(), answer.begin(), answer.end());
  EXPECT_TRUE(starts_with(second, expected_head));
  EXPECT_EQ(second.back(), render_chat({}).back());  // ends where the next answer begins
}

// The first `n` tokens the model answers `prompt` with, and each one's text.
struct ModelAnswer {
  std::vector<TokenId> ids;
  std::vector<std::string> words;
  // The text of the first k words.
  std::string text(std::size_t k) const {
    std::string out;
    for (std::size_t i = 0; i < k; ++i) out += words[i];
    return out;
  }
};

ModelAnswer answer_to(std::vector<TokenId> tokens, std::size_t n) {
  ModelAnswer out;
  for (std::size_t i = 0; i < n; ++i) {
    out.ids.push_back(next_token(tokens));
    out.words.emplace_back(answer_text(out.ids.back()));
    tokens.push_back(out.ids.back());
  }
  return out;
}

std::vector<TokenId> joined_ids(std::vector<TokenId> head, const std::vector<TokenId>& ids,
                                std::size_t k) {
  head.insert(head.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k));
  return head;
}

// A prefill (continue_final_message): the final assistant message is the first k words of an
// answer, left open; the prompt is the original's plus those words' ids, so the model goes on
// with the same answer from word k.
TEST(SimChatTemplate, ContinueFinalMessageLeavesItOpenSoTheAnswerGoesOn) {
  const std::vector<ChatMessage> chat = {{"system", "Be brief."}, {"user", "Name a prime."}};
  constexpr std::size_t kWordCount = 8;
  auto reference = answer_to(render_chat(chat), kWordCount);
  for (std::size_t k = 0; k < kWordCount; ++k) {
    auto prefilled = chat;
    prefilled.push_back({"assistant", reference.text(k)});
    auto prompt =
        render_chat(prefilled, {.add_generation_prompt = false, .continue_final_message = true});
    EXPECT_EQ(prompt, joined_ids(render_chat(chat), reference.ids, k)) << "k=" << k;
    auto rest = answer_to(prompt, kWordCount - k);
    EXPECT_EQ(rest.ids, std::vector<TokenId>(reference.ids.begin() + static_cast<std::ptrdiff_t>(k),
                                             reference.ids.end()))
        << "k=" << k;
  }
}

TEST(SimChatTemplate, WithoutAGenerationPromptItEndsAfterTheLastMessage) {
  const std::vector<ChatMessage> chat = {{"user", "Name a prime."}, {"assistant", "Seven."}};
  auto with = render_chat(chat);
  auto without = render_chat(chat, {.add_generation_prompt = false});
  ASSERT_EQ(without.size() + 2, with.size());
  EXPECT_TRUE(starts_with(with, without));
  EXPECT_EQ(without.back(), kMessageEnd);
}

// The text fallback of migration: a completion prompt's text followed by the first k words of
// its answer tokenizes as the prompt's ids and then the words' ids, whatever the prompt ends
// with (the words begin with a space, which ends any piece before them).
TEST(SimTokenizer, PromptTextThenAnswerWordsTokenizesAsBothApart) {
  for (std::string prompt :
       {"hello there", "ends with a space ", "two spaces  ", "punctuation!?", "abcdefghijklmnop",
        "na\xC3\xAFve caf\xC3\xA9", "tab\t", "new\nline\n", "x", ""}) {
    auto reference = answer_to(tokenize(prompt), 6);
    for (std::size_t k = 0; k <= 6; ++k) {
      EXPECT_EQ(tokenize(prompt + reference.text(k)),
                joined_ids(tokenize(prompt), reference.ids, k))
          << "prompt '" << prompt << "' k=" << k;
    }
  }
}

TEST(SimAnswerWords, DetokenizeGivesBackTheWordsAndNothingForOtherIds) {
  auto answer = answer_to(tokenize("hello"), 5);
  EXPECT_EQ(detokenize(answer.ids), answer.text(5));
  std::vector<TokenId> others = {kMessageStart, kMessageEnd, tokenize("fox")[0], 0,
                                 kFirstTextToken - 1};
  EXPECT_EQ(detokenize(others), "");
  others.push_back(answer.ids[0]);
  EXPECT_EQ(detokenize(others), answer.words[0]);
}

TEST(SimAnswerWords, AreAPureFunctionOfThePromptAndTokenizeBack) {
  auto prompt = tokenize("hello there");
  EXPECT_EQ(next_token(prompt), next_token(prompt));
  std::map<TokenId, int> seen;
  auto tokens = prompt;
  for (int i = 0; i < 200; ++i) {
    auto t = next_token(tokens);
    auto text = answer_text(t);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(tokenize(text), std::vector<TokenId>{t});
    ++seen[t];
    tokens.push_back(t);
  }
  EXPECT_GT(seen.size(), 150u);  // no short loop
  EXPECT_TRUE(answer_text(tokenize("fox")[0]).empty());
}

TEST(SimKvCache, APromptFindsTheFullBlocksAnEarlierOneComputedButNotItsLastToken) {
  KvCache cache({.block_size = 16, .num_blocks = 32});
  auto first = counting(40);
  KvBlocks a;
  auto hashes = block_hashes(first, 16);
  ASSERT_EQ(cache.lookup(hashes, first.size()), 0u);
  ASSERT_TRUE(cache.allocate(a, hashes, 0, first.size()));
  EXPECT_EQ(a.blocks.size(), 3u);
  cache.cache_full_blocks(a, first, first.size());
  cache.free(a);
  EXPECT_EQ(cache.used_blocks(), 0u);
  EXPECT_EQ(cache.cached_blocks(), 2u);  // the third block was not full

  auto longer = counting(50);
  EXPECT_EQ(cache.lookup(block_hashes(longer, 16), longer.size()), 32u);
  auto same_32 = counting(32);
  EXPECT_EQ(cache.lookup(block_hashes(same_32, 16), 32), 16u);  // the last token is computed
  auto other = counting(40, 5000);
  EXPECT_EQ(cache.lookup(block_hashes(other, 16), other.size()), 0u);
  EXPECT_EQ(cache.query_tokens(), 0u);  // a lookup counts nothing; the scheduler records admissions
  cache.record_query(50, 32);
  EXPECT_EQ(cache.hit_tokens(), 32u);
  EXPECT_EQ(cache.query_tokens(), 50u);

  KvBlocks b;
  ASSERT_TRUE(cache.allocate(b, block_hashes(longer, 16), 32, longer.size()));
  EXPECT_EQ(b.hashed, 2u);
  EXPECT_EQ(cache.used_blocks(), 4u);  // two shared, two new
}

TEST(SimKvCache, NeverHoldsMoreThanItsBlocksAndARefusedAllocationTakesNothing) {
  KvCache cache({.block_size = 4, .num_blocks = 5});
  KvBlocks a, b;
  ASSERT_TRUE(cache.allocate(a, {}, 0, 12));
  EXPECT_FALSE(cache.allocate(b, {}, 0, 12));
  EXPECT_TRUE(b.blocks.empty());
  EXPECT_EQ(cache.used_blocks(), 3u);
  EXPECT_TRUE(cache.allocate(b, {}, 0, 8));
  EXPECT_EQ(cache.used_blocks(), 5u);
  EXPECT_DOUBLE_EQ(cache.usage(), 1.0);
  EXPECT_FALSE(cache.allocate(a, {}, 0, 13));
  EXPECT_EQ(a.blocks.size(), 3u);
}

TEST(SimKvCache, EvictsTheLeastRecentlyFreedAndATailBeforeItsHead) {
  KvCache cache({.block_size = 4, .num_blocks = 4});
  auto old_seq = counting(8, 100), new_seq = counting(8, 200);
  KvBlocks a, b;
  for (auto* s : {&old_seq, &new_seq}) {
    KvBlocks& kv = s == &old_seq ? a : b;
    ASSERT_TRUE(cache.allocate(kv, block_hashes(*s, 4), 0, 8));
    cache.cache_full_blocks(kv, *s, 8);
  }
  cache.free(a);  // freed first: goes first
  cache.free(b);
  KvBlocks c;
  ASSERT_TRUE(cache.allocate(c, {}, 0, 4));  // takes one block: old_seq's tail
  auto old_hashes = block_hashes(old_seq, 4);
  EXPECT_EQ(cache.lookup(old_hashes, 9), 4u);  // its head is still there
  EXPECT_EQ(cache.lookup(block_hashes(new_seq, 4), 9), 8u);
}

TEST(SimKvCache, WithoutPrefixCachingNothingIsFound) {
  KvCache cache({.block_size = 4, .num_blocks = 8, .prefix_caching = false});
  auto t = counting(12);
  KvBlocks a;
  ASSERT_TRUE(cache.allocate(a, block_hashes(t, 4), 0, 12));
  cache.cache_full_blocks(a, t, 12);
  cache.free(a);
  EXPECT_EQ(cache.lookup(block_hashes(t, 4), 13), 0u);
}

// Runs steps until every sequence finished; returns tokens per sequence.
std::map<uint64_t, std::size_t> run_all(BatchScheduler& s, KvCache& cache, int max_steps = 10000,
                                        std::vector<Step>* steps = nullptr) {
  std::map<uint64_t, std::size_t> emitted;
  for (int i = 0; i < max_steps && (s.running() || s.waiting()); ++i) {
    auto step = s.schedule();
    EXPECT_LE(cache.used_blocks(), cache.num_blocks());
    if (steps) steps->push_back(step);
    for (const auto& e : s.complete(step)) ++emitted[e.id];
  }
  return emitted;
}

TEST(SimBatchScheduler, BatchesSequencesAndGivesEachItsTokens) {
  KvCache cache({.block_size = 16, .num_blocks = 64});
  BatchScheduler s({}, cache, next_token);
  s.add(1, counting(20), 5);
  s.add(2, counting(30, 900), 3);
  s.add(3, counting(10, 1900), 4);
  std::vector<Step> steps;
  auto emitted = run_all(s, cache, 100, &steps);
  EXPECT_EQ(emitted, (std::map<uint64_t, std::size_t>{{1, 5}, {2, 3}, {3, 4}}));
  ASSERT_GE(steps.size(), 2u);
  EXPECT_EQ(steps[0].prefill_tokens, 60u);  // all three prompts in one step
  EXPECT_EQ(steps[1].decode_seqs, 3u);      // then they decode together
  EXPECT_EQ(cache.used_blocks(), 0u);
}

TEST(SimBatchScheduler, ChunksALongPromptByTheStepsTokenBudget) {
  KvCache cache({.block_size = 16, .num_blocks = 64});
  BatchScheduler s({.max_num_seqs = 8, .max_num_batched_tokens = 32}, cache, next_token);
  s.add(1, counting(100), 2);
  std::vector<Step> steps;
  run_all(s, cache, 100, &steps);
  std::vector<std::size_t> sizes;
  for (const auto& st : steps) sizes.push_back(st.work.at(0).tokens);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{32, 32, 32, 4, 1}));
}

TEST(SimBatchScheduler, KeepsToItsSequenceLimit) {
  KvCache cache({.block_size = 16, .num_blocks = 64});
  BatchScheduler s({.max_num_seqs = 2, .max_num_batched_tokens = 8192}, cache, next_token);
  for (uint64_t id = 1; id <= 5; ++id) s.add(id, counting(8, static_cast<TokenId>(100 * id)), 3);
  auto step = s.schedule();
  EXPECT_EQ(step.work.size(), 2u);
  EXPECT_EQ(s.waiting(), 3u);
  s.complete(step);
  auto emitted = run_all(s, cache);
  EXPECT_EQ(emitted.size(), 5u);
}

TEST(SimBatchScheduler, PreemptsTheNewestWhenBlocksRunOutAndStillFinishesEverything) {
  KvCache cache({.block_size = 4, .num_blocks = 6});
  BatchScheduler s({}, cache, next_token);
  s.add(1, counting(7, 100), 9);  // 16 tokens at the end: 4 blocks
  s.add(2, counting(7, 500), 9);  // the two cannot both reach their end: 8 blocks > 6
  auto emitted = run_all(s, cache, 1000);
  EXPECT_EQ(emitted, (std::map<uint64_t, std::size_t>{{1, 9}, {2, 9}}));
  EXPECT_GT(s.preemptions(), 0u);
  EXPECT_EQ(cache.used_blocks(), 0u);
}

TEST(SimBatchScheduler, ARepeatedPromptReportsItsCachedTokens) {
  KvCache cache({.block_size = 16, .num_blocks = 64});
  BatchScheduler s({}, cache, next_token);
  auto prompt = counting(70);
  s.add(1, prompt, 2);
  run_all(s, cache);
  s.add(2, prompt, 2);
  auto step = s.schedule();
  EXPECT_EQ(s.find(2)->cached_tokens, 64u);
  EXPECT_EQ(step.prefill_tokens, 6u);
}

// vllm:prefix_cache_queries/hits count each request once, when it is admitted (vLLM since
// vllm#48860): not every step it waits for blocks, not the recomputation after a preemption.
TEST(SimBatchScheduler, CountsAPromptsPrefixLookupOnceWhenItIsAdmitted) {
  KvCache cache({.block_size = 4, .num_blocks = 6});
  BatchScheduler s({}, cache, next_token);
  s.add(1, counting(20, 100), 3);  // 5 blocks, then 6
  s.add(2, counting(8, 500), 2);   // 2 blocks: waits, tried every step, until 1 is done
  run_all(s, cache);
  EXPECT_EQ(cache.query_tokens(), 28u);
  EXPECT_EQ(cache.hit_tokens(), 0u);
  s.add(3, counting(20, 100), 2);  // 1's prompt again: the head of it is still cached
  s.complete(s.schedule());
  EXPECT_EQ(cache.query_tokens(), 48u);
  EXPECT_GT(cache.hit_tokens(), 0u);
  EXPECT_EQ(cache.hit_tokens(), s.find(3)->cached_tokens);
  run_all(s, cache);

  KvCache small({.block_size = 4, .num_blocks = 6});
  BatchScheduler p({}, small, next_token);
  p.add(1, counting(7, 100), 9);  // the two cannot both reach their end: one is recomputed
  p.add(2, counting(7, 500), 9);
  run_all(p, small, 1000);
  EXPECT_GT(p.preemptions(), 0u);
  EXPECT_EQ(small.query_tokens(), 14u);
}

TEST(SimBatchScheduler, AnAbortedSequenceGivesItsBlocksBack) {
  KvCache cache({.block_size = 16, .num_blocks = 64});
  BatchScheduler s({}, cache, next_token);
  s.add(1, counting(40), 100);
  s.complete(s.schedule());
  EXPECT_EQ(cache.used_blocks(), 3u);
  s.abort(1);
  EXPECT_EQ(cache.used_blocks(), 0u);
  EXPECT_EQ(s.running(), 0u);
  EXPECT_EQ(s.find(1), nullptr);
}

TEST(SimDeviceProfile, StepTimesFollowEachDevicesComputeAndBandwidth) {
  ModelShape m;
  auto h100 = *find_profile("nvidia-h100"), h20 = *find_profile("nvidia-h20"),
       npu = *find_profile("ascend-910b");
  // Decoding one sequence reads the weights: about 7 ms on an H100.
  auto decode = step_time(h100, m, 1, 1000);
  EXPECT_GT(decode, 5ms);
  EXPECT_LT(decode, 10ms);
  // The H20 has more bandwidth and far less compute than the H100.
  EXPECT_LT(step_time(h20, m, 1, 1000), decode);
  EXPECT_GT(step_time(h20, m, 4096, 4096), 2 * step_time(h100, m, 4096, 4096));
  EXPECT_GT(step_time(npu, m, 4096, 4096), step_time(h100, m, 4096, 4096));
  // A long context costs decode time.
  EXPECT_GT(step_time(h100, m, 32, 32 * 8000), 2 * step_time(h100, m, 32, 32 * 100));
  EXPECT_GT(kv_capacity_tokens(h100, m), 300000u);
  EXPECT_FALSE(find_profile("tpu").has_value());
  EXPECT_EQ(profile_names().size(), 5u);
}

}  // namespace
}  // namespace duet::sim::model
