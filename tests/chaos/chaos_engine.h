#pragma once
// An engine that misbehaves on purpose, for the chaos suite: each request is answered in one
// of the ways a broken (not malicious) engine answers — interim 1xx responses, a close or a
// reset before the header, a bad status line, a header too large, a byte-by-byte trickle,
// a body cut short, bytes after the body — or properly. Every answer that carries a body
// carries the request's own body back, so a client can tell its answer from anyone else's.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "scripted_engine.h"

namespace duet::test {

enum class Misbehaviour {
  none,                  // 200 with a Content-Length
  chunked,               // 200 chunked, in pieces written apart
  early_hints,           // 103 Early Hints, then the 200
  interim_continue,      // an unasked-for 100 Continue, then the 200
  close_before_header,   // reads the request, closes
  reset_before_header,   // reads the request, resets the connection
  bad_status_line,       // "HTTP/1.1 2OO OK", then closes
  huge_header,           // a 100 KB header field
  trickle,               // the whole answer one byte at a time
  body_cut_short,        // Content-Length larger than what comes, then closes
  bytes_after_body,      // another response's bytes right behind the body, same write
  count,
};

class ChaosEngine {
 public:
  // `well_behaved` engines always answer `none`; the others go through every misbehaviour
  // in turn, request by request.
  explicit ChaosEngine(bool well_behaved = false);

  // `127.0.0.1:PORT`, as an engine's endpoint in the watch stream.
  std::string endpoint() const { return engine_.endpoint(); }
  // Requests read whole so far.
  int requests() const { return requests_.load(); }

 private:
  boost::asio::awaitable<bool> respond(boost::asio::ip::tcp::socket& socket, std::string body);

  bool well_behaved_;
  std::atomic<int> requests_{0};
  router::test::ScriptedEngine engine_;  // last: its thread stops first
};

}  // namespace duet::test
