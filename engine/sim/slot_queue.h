#pragma once
// duet-sim's --max-concurrency: a fixed number of generation slots and a FIFO queue of
// requests waiting for one. Thread-safe; it never runs a waiter itself, it hands the waiter
// back to whoever freed the slot, so no callback runs under its lock.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace duet::sim {

class SlotQueue {
 public:
  // Called once the waiter holds a slot; the waiter must release() it later.
  using Grant = std::function<void()>;

  struct Admission {
    bool granted;     // true: a slot was free and is now held; the grant is not kept
    uint64_t ticket;  // for cancel() while waiting
  };

  // `limit` slots; 0 = unlimited (every request gets a slot at once).
  explicit SlotQueue(std::size_t limit) : limit_(limit) {}

  // Takes a free slot, or queues `grant` behind earlier waiters.
  Admission admit(Grant grant);
  // Removes a waiter that no longer wants a slot. False if it was already granted (its
  // grant is then on its way, and it must release() the slot it got).
  bool cancel(uint64_t ticket);
  // Frees a slot. If someone waits, the slot passes to the first waiter: its grant is
  // returned for the caller to run (outside any lock); otherwise an empty function.
  Grant release();

  std::size_t running() const;
  std::size_t waiting() const;
  std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::size_t running_ = 0;
  uint64_t next_ticket_ = 0;
  std::map<uint64_t, Grant> waiting_;  // tickets increase, so map order is arrival order
};

}  // namespace duet::sim
