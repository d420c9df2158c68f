#include "router/timed_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace duet::router {

namespace {

// recv and send without glibc's wrappers: each is a cancellation point, and in a process of
// more than one thread it turns asynchronous cancellation on and off around the call, two
// atomic operations on the thread's state (0.14 us a request under perf, four calls a
// request). duet-router never cancels a thread.
ssize_t recv_bytes(int fd, void* data, std::size_t size) {
  return ::syscall(SYS_recvfrom, fd, data, size, 0, nullptr, nullptr);
}

ssize_t send_bytes(int fd, const void* data, std::size_t size) {
  return ::syscall(SYS_sendto, fd, data, size, MSG_NOSIGNAL, nullptr, 0);
}

}  // namespace

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

namespace {
using boost::system::error_code;
namespace error = boost::asio::error;

error_code last_error() { return error_code(errno, boost::system::system_category()); }
}  // namespace

TimedSocket::TimedSocket(Socket accepted, Deadlines& deadlines, EdgeReactor& reactor)
    : executor_(accepted.get_executor()), deadlines_(&deadlines), reactor_(&reactor) {
  deadlines_->add(this);
  error_code ec;
  int fd = accepted.release(ec);
  if (!ec) adopt(fd);
}

TimedSocket::TimedSocket(executor_type executor, Deadlines& deadlines, EdgeReactor& reactor)
    : executor_(executor), deadlines_(&deadlines), reactor_(&reactor) {
  deadlines_->add(this);
}

TimedSocket::TimedSocket(TimedSocket&& other) noexcept
    : executor_(other.executor_),
      deadlines_(other.deadlines_),
      reactor_(other.reactor_),
      fd_(std::exchange(other.fd_, -1)),
      key_(std::exchange(other.key_, EdgeReactor::kNoKey)),
      may_read_(other.may_read_),
      may_write_(other.may_write_),
      peer_ended_(other.peer_ended_),
      tls_(std::exchange(other.tls_, nullptr)),
      peer_(other.peer_),
      deadline_(other.deadline_),
      expired_(other.expired_) {
  reactor_->moved(key_, this);
  tls_moved();
  other.deadline_ = Clock::time_point::max();  // what is left of `other` has nothing to time
  deadlines_->unfile(&other);
  deadlines_->add(this);
}

TimedSocket::~TimedSocket() {
  // Only when the worker goes away with operations pending: their handlers are dropped.
  abort_pending(true);
  close();
  end_tls();
  deadlines_->remove(this);
}

// Non-blocking, and watched by the worker's reactor (an accepted one is first let go by
// Asio's, which costs an epoll_ctl but keeps Asio's acceptor).
void TimedSocket::adopt(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
  error_code ec;
  key_ = reactor_->add(fd_, this, ec);
  if (ec)
    close();
  else
    prepare();
}

void TimedSocket::prepare() {
  int on = 1;
  if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void TimedSocket::begin(EdgeOp* op) {
  error_code ec;
  std::size_t n = 0;
  EdgeOp*& slot = slot_for(op->kind);
  if (slot) return reactor_->finished(op, error::already_started, 0);
  if (fd_ < 0 && op->kind != EdgeOp::Kind::connect)
    return reactor_->finished(op, error::bad_descriptor, 0);
  if (attempt(op, ec, n)) return reactor_->finished(op, ec, n);
  slot = op;
  reactor_->wait_started();
}

// A read or a wait for bytes is tried only while may_read_, a write only while may_write_:
// either flag down means the last attempt found nothing, and the next edge raises it. A
// connect opens the socket the first time, then asks how it ended.
bool TimedSocket::attempt(EdgeOp* op, error_code& ec, std::size_t& n) {
  switch (op->kind) {
    case EdgeOp::Kind::wait_readable:
      return may_read_;
    case EdgeOp::Kind::read:
      if (op->size == 0) return true;
      if (tls_) return attempt_tls(op, ec, n);  // OpenSSL may hold bytes the socket no longer has
      if (!may_read_) return false;
      n = read_now(boost::asio::mutable_buffer(op->data, op->size), ec);
      return ec != error::would_block;
    case EdgeOp::Kind::write:
      if (op->size == 0) return true;
      if (tls_) return attempt_tls(op, ec, n);
      if (!may_write_) return false;
      n = write_now(boost::asio::const_buffer(op->data, op->size), ec);
      return n != 0 || ec;
    case EdgeOp::Kind::connect:
      return finish_connect(ec);
    case EdgeOp::Kind::handshake:
      return attempt_tls(op, ec, n);
  }
  return true;
}

std::size_t TimedSocket::read_now(boost::asio::mutable_buffer data, error_code& ec) {
  ec = {};
  for (;;) {
    ssize_t n = recv_bytes(fd_, data.data(), data.size());
    if (n > 0) {
      // Less than asked: the socket is empty now, and new bytes make a new edge.
      if (static_cast<std::size_t>(n) < data.size() && !peer_ended_) may_read_ = false;
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      if (data.size() != 0) ec = error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      may_read_ = false;
      ec = error::would_block;
    } else {
      ec = last_error();
    }
    return 0;
  }
}

std::size_t TimedSocket::write_now(boost::asio::const_buffer data, error_code& ec) {
  ec = {};
  if (!may_write_ || data.size() == 0) return 0;
  for (;;) {
    ssize_t n = send_bytes(fd_, data.data(), data.size());
    if (n >= 0) {
      if (static_cast<std::size_t>(n) < data.size()) may_write_ = false;  // the buffer is full
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      may_write_ = false;
    else
      ec = last_error();
    return 0;
  }
}

// Opens and connects on the first call (true: done, `ec` says how); after an edge, asks the
// kernel how the connect ended.
bool TimedSocket::finish_connect(error_code& ec) {
  if (fd_ < 0) {
    int fd = ::socket(peer_.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ec = last_error();
      return true;
    }
    int r = ::connect(fd, peer_.data(), static_cast<socklen_t>(peer_.size()));
    int connect_errno = r == 0 ? 0 : errno;
    if (r != 0 && connect_errno != EINPROGRESS) {
      ::close(fd);
      ec = error_code(connect_errno, boost::system::system_category());
      return true;
    }
    // Watched only now: a socket not yet connecting polls as hung up.
    fd_ = fd;
    key_ = reactor_->add(fd_, this, ec);
    if (ec) {
      close();
      return true;
    }
    may_write_ = r == 0;
    return r == 0;
  }
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error != 0) ec = error_code(error, boost::system::system_category());
  return true;
}

void TimedSocket::on_read_edge(uint32_t events) {
  may_read_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_ended_ = true;
  retry_waiting_for(EdgeOp::Edge::read);
}

void TimedSocket::on_write_edge() {
  may_write_ = true;
  retry_waiting_for(EdgeOp::Edge::write);
}

void TimedSocket::retry_waiting_for(EdgeOp::Edge edge) {
  bool reading = edge == EdgeOp::Edge::read;
  retry(reading ? writing_ : reading_, edge, EdgeOp::Run::post);
  retry(reading ? reading_ : writing_, edge, EdgeOp::Run::dispatch);  // last: see retry()
}

// Run::dispatch runs the handler here, and it may free this socket: nothing may follow it.
// Run::post leaves it to the reactor's list.
void TimedSocket::retry(EdgeOp*& slot, EdgeOp::Edge edge, EdgeOp::Run how) {
  EdgeOp* op = slot;
  if (!op || op->waits_for != edge) return;
  error_code ec;
  std::size_t n = 0;
  if (!attempt(op, ec, n)) return;
  slot = nullptr;
  reactor_->wait_ended();
  if (how == EdgeOp::Run::dispatch)
    op->finish(op, ec, n, EdgeOp::Run::dispatch);
  else
    reactor_->finished(op, ec, n);
}

// `dropped`: the worker goes away and the handlers are destroyed unrun.
void TimedSocket::abort_pending(bool dropped) {
  for (EdgeOp** slot : {&reading_, &writing_}) {
    if (EdgeOp* op = std::exchange(*slot, nullptr)) {
      reactor_->wait_ended();
      if (dropped)
        op->finish(op, {}, 0, EdgeOp::Run::destroy);
      else
        reactor_->finished(op, error::operation_aborted, 0);
    }
  }
}

void TimedSocket::cancel() { abort_pending(false); }

void TimedSocket::shutdown_send() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void TimedSocket::close() {
  abort_pending(false);
  if (fd_ < 0) return;
  reactor_->remove(std::exchange(key_, EdgeReactor::kNoKey));
  ::close(std::exchange(fd_, -1));
}

void TimedSocket::expire() {
  expired_ = true;
  deadline_ = Clock::time_point::max();
  close();
}

}  // namespace duet::router
