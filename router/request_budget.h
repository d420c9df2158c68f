#pragma once
// limits.maxInFlightRequests and limits.maxBufferedBodyBytes: what all workers together may
// hold at once, so that many clients (each within its own limits) cannot take the router's
// memory. A request over the budget is answered 503 with Retry-After, never dropped.

#include <atomic>
#include <cstddef>

namespace duet::router {

// Shared by all workers: two atomics, each on its own cache line.
class RequestBudget {
 public:
  RequestBudget(std::size_t max_requests, std::size_t max_body_bytes)
      : max_requests_(max_requests), max_body_bytes_(max_body_bytes) {}

  // Takes one request slot; false (and nothing taken) when all are in use.
  bool enter() { return take(requests_, 1, max_requests_); }
  void leave() { requests_.fetch_sub(1, std::memory_order_relaxed); }
  // Takes `bytes` of body room; false (and nothing taken) when there is not enough.
  bool reserve(std::size_t bytes) { return take(body_bytes_, bytes, max_body_bytes_); }
  void release(std::size_t bytes) { body_bytes_.fetch_sub(bytes, std::memory_order_relaxed); }

  std::size_t max_requests() const { return max_requests_; }
  std::size_t max_body_bytes() const { return max_body_bytes_; }
  // Body bytes held now (duet_router_buffered_body_bytes).
  std::size_t body_bytes() const { return body_bytes_.load(std::memory_order_relaxed); }

 private:
  static bool take(std::atomic<std::size_t>& used, std::size_t n, std::size_t max) {
    if (used.fetch_add(n, std::memory_order_relaxed) + n <= max) return true;
    used.fetch_sub(n, std::memory_order_relaxed);
    return false;
  }

  const std::size_t max_requests_;
  const std::size_t max_body_bytes_;
  alignas(64) std::atomic<std::size_t> requests_{0};
  alignas(64) std::atomic<std::size_t> body_bytes_{0};
};

// What one request holds of the budget; given back by release() or when it goes.
class BudgetHold {
 public:
  explicit BudgetHold(RequestBudget& budget) : budget_(budget) {}
  BudgetHold(const BudgetHold&) = delete;
  BudgetHold& operator=(const BudgetHold&) = delete;
  ~BudgetHold() { release(); }

  bool enter() { return entered_ = budget_.enter(); }
  // Grows what is held for the body to `bytes` in all.
  bool reserve_body(std::size_t bytes) {
    if (bytes <= body_bytes_) return true;
    if (!budget_.reserve(bytes - body_bytes_)) return false;
    body_bytes_ = bytes;
    return true;
  }
  std::size_t body_bytes() const { return body_bytes_; }

  void release() {
    if (entered_) budget_.leave();
    if (body_bytes_) budget_.release(body_bytes_);
    entered_ = false;
    body_bytes_ = 0;
  }

 private:
  RequestBudget& budget_;
  bool entered_ = false;
  std::size_t body_bytes_ = 0;
};

}  // namespace duet::router
