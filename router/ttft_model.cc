#include "router/ttft_model.h"

#include <algorithm>
#include <utility>

namespace duet::router {

namespace {
// Each observation's weight decays by this per later one: about the last 30 count.
constexpr double kDecay = 0.97;
// A per-token cost is fitted only once the work seen spreads by at least this share of its
// mean (weighted standard deviation ÷ mean). Work all alike, a single first byte above all,
// says how long that work takes and nothing of what a token costs: a slope fitted from it is
// noise, and a short prompt's slow first byte would predict seconds for a long prompt.
constexpr double kMinWorkSpread = 0.1;
}  // namespace

std::optional<double> TtftModel::predict_ms(uint32_t own_tokens) const {
  return predict_work_ms(static_cast<double>(pending.load(std::memory_order_relaxed)) + own_tokens);
}

std::optional<double> TtftModel::predict_alone_ms(uint32_t own_tokens) const {
  return predict_work_ms(own_tokens);
}

std::optional<double> TtftModel::predict_work_ms(double work) const {
  if (observations() == 0) return std::nullopt;
  return base_ms_.load(std::memory_order_relaxed) + ms_per_token_.load(std::memory_order_relaxed) * work;
}

void TtftModel::observe(uint64_t work, std::chrono::steady_clock::duration ttft) {
  double x = static_cast<double>(work);
  double y = std::chrono::duration<double, std::milli>(ttft).count();
  std::lock_guard lock(mutex_);
  s1_ = kDecay * s1_ + 1;
  sx_ = kDecay * sx_ + x;
  sy_ = kDecay * sy_ + y;
  sxx_ = kDecay * sxx_ + x * x;
  sxy_ = kDecay * sxy_ + x * y;
  double mean = sx_ / s1_;
  double variance = sxx_ / s1_ - mean * mean;
  double slope = 0;  // too little spread: a flat line at the mean first byte
  if (variance > kMinWorkSpread * kMinWorkSpread * mean * mean)
    slope = std::max((sxy_ / s1_ - mean * sy_ / s1_) / variance, 0.0);  // more work never answers faster
  double base = std::max((sy_ - slope * sx_) / s1_, 0.0);
  base_ms_.store(static_cast<float>(base), std::memory_order_relaxed);
  ms_per_token_.store(static_cast<float>(slope), std::memory_order_relaxed);
  observations_.fetch_add(1, std::memory_order_relaxed);
}

PendingPrefill::PendingPrefill(TtftModel& model, uint32_t tokens, std::chrono::steady_clock::time_point now)
    : model_(&model), tokens_(tokens), sent_(now) {
  work_ = static_cast<uint64_t>(model.pending.fetch_add(tokens, std::memory_order_relaxed)) + tokens;
}

PendingPrefill::PendingPrefill(PendingPrefill&& other) noexcept
    : model_(std::exchange(other.model_, nullptr)), tokens_(other.tokens_), work_(other.work_), sent_(other.sent_) {}

PendingPrefill& PendingPrefill::operator=(PendingPrefill&& other) noexcept {
  if (this != &other) {
    release();
    model_ = std::exchange(other.model_, nullptr);
    tokens_ = other.tokens_;
    work_ = other.work_;
    sent_ = other.sent_;
  }
  return *this;
}

void PendingPrefill::first_byte(std::chrono::steady_clock::time_point now) {
  if (!model_) return;
  model_->observe(work_, now - sent_);
  release();
}

void PendingPrefill::release() {
  if (!model_) return;
  std::exchange(model_, nullptr)->pending.fetch_sub(tokens_, std::memory_order_relaxed);
}

}  // namespace duet::router
