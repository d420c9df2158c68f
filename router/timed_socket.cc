#include "router/timed_socket.h"

#include <algorithm>
#include <utility>

namespace duet::router {

Deadlines::Deadlines(boost::asio::io_context& io)
    : timer_(io), swept_(tick_at_or_after(Clock::now()) - 1) {}

void Deadlines::add(TimedSocket* socket) {
  ++sockets_;
  file(socket);
  if (!ticking_) tick();
}

void Deadlines::remove(TimedSocket* socket) {
  unfile(socket);
  --sockets_;
}

void Deadlines::file(TimedSocket* socket) {
  unfile(socket);
  int64_t at = tick_at_or_after(socket->deadline_);
  if (at == kUnfiled) return;
  at = std::max(at, swept_ + 1);  // a tick already visited would not come round for a round
  auto& head = slots_[at % kSlots];
  socket->filed_tick_ = at;
  socket->next_ = head;
  if (head) head->prev_ = socket;
  head = socket;
}

void Deadlines::unfile(TimedSocket* socket) {
  if (socket->filed_tick_ == kUnfiled) return;
  if (socket->prev_)
    socket->prev_->next_ = socket->next_;
  else
    slots_[socket->filed_tick_ % kSlots] = socket->next_;
  if (socket->next_) socket->next_->prev_ = socket->prev_;
  socket->prev_ = socket->next_ = nullptr;
  socket->filed_tick_ = kUnfiled;
}

void Deadlines::tick() {
  ticking_ = true;
  timer_.expires_after(kResolution);
  timer_.async_wait([this](boost::system::error_code ec) {
    ticking_ = false;
    if (!ec) sweep();
  });
}

// Visits the slots of the ticks that passed since the last visit (all of them, once, after a
// stall longer than a round). A socket whose limit passed is closed; one whose limit moved
// is filed again; one without a limit any more is let go.
void Deadlines::sweep() {
  auto now = Clock::now();
  int64_t now_tick = std::chrono::nanoseconds(now.time_since_epoch()) / kResolution;
  for (int64_t t = std::max(swept_ + 1, now_tick - kSlots + 1); t <= now_tick; ++t) {
    TimedSocket* socket = std::exchange(slots_[t % kSlots], nullptr);
    while (socket) {
      TimedSocket* next = socket->next_;
      socket->prev_ = socket->next_ = nullptr;
      socket->filed_tick_ = kUnfiled;
      // expire() closes, which never runs a handler inline: no socket goes away meanwhile.
      if (socket->deadline_ <= now)
        socket->expire();
      else
        file(socket);  // its limit is past this tick: a later slot, never this list again
      socket = next;
    }
  }
  swept_ = std::max(swept_, now_tick);
  if (sockets_ > 0) tick();
}

TimedSocket::TimedSocket(Socket socket, Deadlines& deadlines)
    : socket_(std::move(socket)), deadlines_(&deadlines) {
  deadlines_->add(this);
  if (socket_.is_open()) prepare();
}

TimedSocket::TimedSocket(TimedSocket&& other) noexcept
    : socket_(std::move(other.socket_)),
      deadlines_(other.deadlines_),
      deadline_(other.deadline_),
      expired_(other.expired_) {
  other.deadline_ = Clock::time_point::max();  // what is left of `other` has nothing to time
  deadlines_->unfile(&other);
  deadlines_->add(this);
}

TimedSocket::~TimedSocket() { deadlines_->remove(this); }

void TimedSocket::prepare() {
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);
}

std::size_t TimedSocket::write_now(boost::asio::const_buffer data, boost::system::error_code& ec) {
  std::size_t n = socket_.write_some(data, ec);
  if (ec == boost::asio::error::would_block) ec = {};
  return n;
}

void TimedSocket::cancel() {
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

void TimedSocket::shutdown_send() {
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_send, ignored);
}

void TimedSocket::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void TimedSocket::expire() {
  expired_ = true;
  deadline_ = Clock::time_point::max();
  close();
}

}  // namespace duet::router
