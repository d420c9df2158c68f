#pragma once
// For the tests of a worker's sockets on real loopback (TimedSocket, EdgeReactor, TlsSocket):
// runs the io_context's handlers until `done` says so or `limit` has passed; whether it did.

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace duet::router::test {

template <class Done>
bool run_io_until(boost::asio::io_context& io, Done done,
                  std::chrono::steady_clock::duration limit = std::chrono::seconds(5)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until)
    io.run_one_for(std::chrono::milliseconds(50));
  return done();
}

}  // namespace duet::router::test
