#include "sim/slot_queue.h"

namespace duet::sim {

SlotQueue::Admission SlotQueue::admit(Grant grant) {
  std::lock_guard lock(mutex_);
  uint64_t ticket = next_ticket_++;
  if (limit_ == 0 || running_ < limit_) {
    ++running_;
    return {true, ticket};
  }
  waiting_.emplace(ticket, std::move(grant));
  return {false, ticket};
}

bool SlotQueue::cancel(uint64_t ticket) {
  Grant dropped;  // destroyed after the lock: it may own the waiter
  std::lock_guard lock(mutex_);
  auto it = waiting_.find(ticket);
  if (it == waiting_.end()) return false;
  dropped = std::move(it->second);
  waiting_.erase(it);
  return true;
}

SlotQueue::Grant SlotQueue::release() {
  std::lock_guard lock(mutex_);
  if (waiting_.empty()) {
    if (running_ > 0) --running_;
    return {};
  }
  // The slot goes straight to the first waiter, so running_ stays the same.
  auto first = waiting_.begin();
  Grant grant = std::move(first->second);
  waiting_.erase(first);
  return grant;
}

std::size_t SlotQueue::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

std::size_t SlotQueue::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

}  // namespace duet::sim
