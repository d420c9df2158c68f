#include "held_conn.h"

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace duet::bench {

namespace bhttp = boost::beast::http;

HeldConn::HeldConn(int epoll_fd, const sockaddr_in& to, std::string request, ConnEvents& events,
                   int role)
    : epoll_fd_(epoll_fd),
      fd_(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)),
      output_(std::move(request)),
      on_body_([this](uint64_t, std::string_view data, boost::system::error_code&) {
        for (const auto& payload : sse_.feed(data)) {
          ++payloads_in_response;
          events_.on_payload(*this, payload, read_at_ns_);
        }
        return data.size();
      }),
      events_(events),
      role_(role) {
  if (fd_ < 0) return;  // closed() tells the owner
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  epoll_event event{EPOLLOUT | EPOLLIN, {.ptr = this}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd_, &event);
}

HeldConn::~HeldConn() {
  if (fd_ < 0) return;
  linger reset{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd_);  // also leaves the epoll set
}

void HeldConn::send(std::string request) {
  output_ = std::move(request);
  flush_output();
}

void HeldConn::on_ready(uint32_t events) {
  if (!connected_ && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int error = 0;
    socklen_t size = sizeof error;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) return fail();
    connected_ = true;
    return flush_output();
  }
  if (events & EPOLLOUT) flush_output();
  if (fd_ >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) read_input();
}

void HeldConn::watch(uint32_t events) {
  epoll_event event{events, {.ptr = this}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd_, &event);
}

// Writes what it can; a fresh parser waits for the response. A request is a few hundred
// bytes, so the first write nearly always takes it all.
void HeldConn::flush_output() {
  if (output_.empty() || !connected_) return;
  if (!parser_) {
    parser_.emplace();
    parser_->on_chunk_body(on_body_);  // Beast keeps a reference
    payloads_in_response = 0;
  }
  auto n = ::send(fd_, output_.data(), output_.size(), MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN) return fail();
  if (n > 0) output_.erase(0, static_cast<std::size_t>(n));
  watch(output_.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

// One read per readiness, timed at its return (as duet-bench-stream does), then parsed.
void HeldConn::read_input() {
  auto space = input_.prepare(16 * 1024);
  auto n = ::recv(fd_, space.data(), space.size(), 0);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0) return fail();
  read_at_ns_ = monotonic_ns();
  input_.commit(static_cast<std::size_t>(n));
  while (parser_ && input_.size() > 0) {
    boost::system::error_code ec;
    input_.consume(parser_->put(input_.data(), ec));
    if (ec == bhttp::error::need_more) break;
    if (ec) return fail();
    if (!parser_->is_done()) continue;
    unsigned status = parser_->get().result_int();
    parser_.reset();
    ++responses;
    events_.on_response(*this, status);
    if (fd_ < 0) return;
  }
  if (!parser_ && input_.size() == 0) input_.shrink_to_fit();  // an idle one keeps no buffer
}

void HeldConn::fail() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  events_.on_closed(*this);
}

}  // namespace duet::bench
