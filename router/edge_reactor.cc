#include "router/edge_reactor.h"

#include <unistd.h>

#include <system_error>

#include "router/event_clock.h"
#include "router/timed_socket.h"

namespace duet::router {

namespace {
constexpr uint32_t kWatched = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
constexpr uint32_t kReadEdges = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
constexpr uint32_t kWriteEdges = EPOLLOUT | EPOLLHUP | EPOLLERR;

int new_epoll_set() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}

uint32_t slot_of(EdgeReactor::Key key) { return static_cast<uint32_t>(key); }
uint32_t generation_of(EdgeReactor::Key key) { return static_cast<uint32_t>(key >> 32); }
}  // namespace

EdgeReactor::EdgeReactor(boost::asio::io_context& io) : set_(io, new_epoll_set()) {}

EdgeReactor::~EdgeReactor() = default;  // set_ closes the epoll descriptor

EdgeReactor::Key EdgeReactor::add(int fd, TimedSocket* socket, boost::system::error_code& ec) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Key key = (Key{slots_[slot].generation} << 32) | slot;
  epoll_event event{};
  event.events = kWatched;
  event.data.u64 = key;
  if (::epoll_ctl(set_.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) {
    ec.assign(errno, boost::system::system_category());
    free_slots_.push_back(slot);
    return kNoKey;
  }
  slots_[slot].socket = socket;
  return key;
}

void EdgeReactor::moved(Key key, TimedSocket* socket) {
  if (key != kNoKey) slots_[slot_of(key)].socket = socket;
}

void EdgeReactor::remove(Key key) {
  if (key == kNoKey) return;
  auto& slot = slots_[slot_of(key)];
  slot.socket = nullptr;
  ++slot.generation;
  free_slots_.push_back(slot_of(key));
}

TimedSocket* EdgeReactor::find(Key key) const {
  const auto& slot = slots_[slot_of(key)];
  return slot.generation == generation_of(key) ? slot.socket : nullptr;
}

void EdgeReactor::wait_started() {
  ++waiting_;
  if (!armed_ && !dispatching_) arm();
}

// With nothing waiting, the posted wait is withdrawn: it would keep the io_context running
// (a drained worker ends when nothing is pending).
void EdgeReactor::wait_ended() {
  if (--waiting_ == 0 && armed_ && !dispatching_) set_.cancel();
}

void EdgeReactor::arm() {
  armed_ = true;
  set_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                  [this](const boost::system::error_code& ec) { on_ready(ec); });
}

void EdgeReactor::finished(EdgeOp* op, const boost::system::error_code& ec, std::size_t n) {
  if (!dispatching_) return op->finish(op, ec, n, EdgeOp::Run::post);
  op->result = ec;
  op->transferred = n;
  op->next = nullptr;
  if (finished_last_)
    finished_last_->next = op;
  else
    finished_ = op;
  finished_last_ = op;
}

void EdgeReactor::run_finished(EdgeOp::Run how) {
  while (EdgeOp* op = finished_) {
    finished_ = op->next;
    if (!finished_) finished_last_ = nullptr;
    op->finish(op, op->result, op->transferred, how);
  }
}

// Each socket is told of reads, then of writes: a read's handler runs inline and may close
// or free its socket, so the write half looks the socket up again.
void EdgeReactor::dispatch(const epoll_event* events, int n) {
  for (int i = 0; i < n; ++i) {
    Key key = events[i].data.u64;
    uint32_t what = events[i].events;
    EventClock::Scope at_event;  // what its handlers run now reads the time once
    if (what & kReadEdges)
      if (TimedSocket* socket = find(key)) socket->on_read_edge(what);
    if (what & kWriteEdges)
      if (TimedSocket* socket = find(key)) socket->on_write_edge();
  }
}

void EdgeReactor::on_ready(const boost::system::error_code& ec) {
  armed_ = false;
  if (ec == boost::asio::error::operation_aborted) {  // withdrawn, or the set closed
    if (waiting_ > 0 && set_.is_open()) arm();        // an operation came since
    return;
  }
  if (ec) return;
  dispatching_ = true;
  auto until = std::chrono::steady_clock::now() + kSlice;
  epoll_event events[kBatch];
  for (;;) {
    run_finished(EdgeOp::Run::dispatch);
    if (waiting_ == 0) break;
    // Takes what is ready, never waits: the io_context's epoll_wait sleeps (see the header).
    int n = ::epoll_wait(set_.native_handle(), events, kBatch, 0);
    if (n <= 0) break;  // nothing more (or a signal): back to the io_context
    dispatch(events, n);
    if (std::chrono::steady_clock::now() >= until) break;
  }
  dispatching_ = false;
  run_finished(EdgeOp::Run::post);  // what finished as the slice ended: through the io_context
  // Events not taken yet still mark the set ready: the re-arm (an epoll_ctl in Asio) sees it.
  if (waiting_ > 0) arm();
}

}  // namespace duet::router
