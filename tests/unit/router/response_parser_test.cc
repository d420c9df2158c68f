// duet-router's parser of an engine's response (router/response_parser.h): the status line,
// each framing of the body (RFC 9112 §6.3), a body handed out as it comes in any split, and
// what a broken engine's bytes get.

#include "router/response_parser.h"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>
#include <string>

#include "feed_in_reads.h"
#include "router/http_parse_error.h"

namespace duet::router {
namespace {

namespace http = boost::beast::http;
using boost::system::error_code;

struct ResponseRead {
  error_code ec;
  bool header_done = false;
  bool done = false;
  std::string body;
  std::size_t left = 0;  // bytes not taken
  ResponseHead head;
  bool chunked = false;
};

// Feeds `wire` in reads of `step` bytes (0: at once), then the engine's close when `closes`.
ResponseRead read_response(std::string_view wire, std::size_t step = 0, bool head_request = false,
                           bool closes = true) {
  ResponseParser parser(1024, head_request);
  ResponseRead r;
  r.left = test::feed_in_reads(
      wire, step, parser,
      [&](std::string_view bytes, error_code& ec) { return parser.put(bytes, r.body, ec); },
      [&](error_code& ec) {
        if (closes) parser.put_eof(ec);
      },
      r.ec);
  r.header_done = parser.is_header_done();
  r.done = parser.is_done();
  r.head = parser.get();
  r.chunked = parser.chunked();
  return r;
}

TEST(ResponseParser, ReadsTheStatusLineAndFields) {
  ResponseRead r =
      read_response("HTTP/1.1 404 Not Found Here\r\nContent-Length: 2\r\nX-A: b\r\n\r\nno");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.head.result_int(), 404u);
  EXPECT_EQ(r.head.reason(), "Not Found Here");
  EXPECT_EQ(r.head.version(), 11u);
  EXPECT_EQ(r.body, "no");
  ASSERT_EQ(r.head.fields().size(), 2u);
  EXPECT_EQ(r.head.fields()[1].value(), "b");
  ResponseRead bare = read_response("HTTP/1.0 200 \r\nContent-Length: 0\r\n\r\n");  // no reason
  ASSERT_FALSE(bare.ec) << bare.ec.message();
  EXPECT_EQ(bare.head.reason(), "");
  EXPECT_EQ(bare.head.version(), 10u);
}

TEST(ResponseParser, EachFramingEndsTheBodyWhereItShould) {
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\ndata: \r\n3;x=1\r\nhi\n\r\n0\r\nx-t: 1\r\n\r\nNEXT";
  for (std::size_t step : {0, 1, 5, 16}) {
    ResponseRead r = read_response(chunked, step, false, false);
    ASSERT_FALSE(r.ec) << step << ": " << r.ec.message();
    EXPECT_TRUE(r.done);
    EXPECT_TRUE(r.chunked);
    EXPECT_EQ(r.body, "data: hi\n") << step;
    EXPECT_EQ(r.left, 4u) << step;  // the bytes after the response stay unread

    ResponseRead eof = read_response("HTTP/1.1 200 OK\r\n\r\nall of it", step);
    ASSERT_FALSE(eof.ec) << eof.ec.message();
    EXPECT_TRUE(eof.done);
    EXPECT_EQ(eof.body, "all of it");
  }
  ResponseRead cut = read_response("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nall", 0);
  EXPECT_EQ(cut.ec, http::error::partial_message);
  EXPECT_EQ(cut.body, "all");
}

// RFC 9112 §6.3: a HEAD's answer, a 1xx, a 204 and a 304 end at their header.
TEST(ResponseParser, SomeAnswersHaveNoBodyWhateverTheirHeaderSays) {
  for (const char* wire : {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
    ResponseRead r = read_response(wire, 0, /*head_request=*/true, false);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_TRUE(r.done) << wire;
  }
  EXPECT_TRUE(read_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, true, false)
                  .chunked);
  for (const char* wire : {"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200",
                           "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                           "HTTP/1.1 304 Not Modified\r\n\r\n"}) {
    ResponseRead r = read_response(wire, 0, false, false);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_TRUE(r.done) << wire;
    EXPECT_EQ(r.body, "");
  }
}

TEST(ResponseParser, ABrokenEngineGetsTheReason) {
  struct Case {
    const char* wire;
    error_code expected;
  };
  for (const Case& c : {
           Case{"HTTP/2 200 OK\r\n\r\n", HttpParseError::bad_status_line},
           Case{"HTTP/1.1 20x OK\r\n\r\n", HttpParseError::bad_status_line},
           Case{"HTTP/1.1 200OK\r\n\r\n", HttpParseError::bad_status_line},
           Case{"HTTP/1.1 200\r\n\r\n", HttpParseError::bad_status_line},
           Case{"HTTP/1.1 200 O\x01K\r\n\r\n", HttpParseError::bad_status_line},
           Case{"HTTP/1.1 200 OK\nX: y\r\n\r\n", HttpParseError::bad_line_ending},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked: t\r\n\r\n",
                HttpParseError::bad_transfer_encoding},
           Case{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpParseError::length_and_chunked},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc",
                HttpParseError::bad_chunk_end},
           Case{"HTTP/1.1 200 OK\r\nX: 1\r\n", http::error::partial_message},
       }) {
    for (std::size_t step : {0, 1}) {
      ResponseRead r = read_response(c.wire, step);
      EXPECT_EQ(r.ec, c.expected) << c.wire << " step " << step << ": " << r.ec.message();
    }
  }
  std::string endless = "HTTP/1.1 200 OK\r\nX: " + std::string(2000, 'x');
  EXPECT_EQ(read_response(endless, 100, false, false).ec, http::error::header_limit);
}

}  // namespace
}  // namespace duet::router
