#include "router/timed_socket.h"

namespace duet::router {

void Deadlines::add(TimedSocket* socket) {
  sockets_.insert(socket);
  if (!ticking_) tick();
}

void Deadlines::tick() {
  ticking_ = true;
  timer_.expires_after(kResolution);
  timer_.async_wait([this](boost::system::error_code ec) {
    ticking_ = false;
    if (!ec) sweep();
  });
}

void Deadlines::sweep() {
  auto now = TimedSocket::Clock::now();
  // expire() closes, which never runs a handler inline: the set cannot change meanwhile.
  for (TimedSocket* socket : sockets_)
    if (socket->deadline_ <= now) socket->expire();
  if (!sockets_.empty()) tick();
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
