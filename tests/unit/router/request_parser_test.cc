// duet-router's own HTTP/1.1 request parser (router/request_parser.h) and chunk decoder
// (router/chunked_decoder.h): what a well-formed request reads as, that it reads the same
// as Beast's parser read it and however TCP splits it, and what an attacker's bytes get.

#include "router/request_parser.h"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <vector>

#include "feed_in_reads.h"
#include "router/http_parse_error.h"
#include "router/http_syntax.h"

namespace duet::router {
namespace {

namespace http = boost::beast::http;
using boost::system::error_code;

constexpr std::size_t kHeaderLimit = 1024;
constexpr std::uint64_t kBodyLimit = 4096;

struct Read {
  error_code ec;
  bool header_done = false;
  bool done = false;
  std::size_t used = 0;  // bytes taken
  ProxyRequest request;
};

// `wire` in reads of `step` bytes (0: at once), then the client's close.
Read parse(std::string_view wire, std::size_t step = 0, std::size_t header_limit = kHeaderLimit,
           std::uint64_t body_limit = kBodyLimit) {
  RequestParser parser(header_limit, body_limit);
  Read r;
  std::size_t left = test::feed_in_reads(
      wire, step, parser,
      [&](std::string_view bytes, error_code& ec) { return parser.put(bytes, ec); },
      [&](error_code& ec) { parser.put_eof(ec); }, r.ec);
  r.used = wire.size() - left;
  r.header_done = parser.is_header_done();
  r.done = parser.is_done();
  r.request = parser.release();
  return r;
}

std::vector<std::pair<std::string, std::string>> fields_of(const ProxyRequest& request) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : request.fields()) out.emplace_back(f.name_string(), f.value());
  return out;
}

const std::string kChat =
    "POST /v1/chat/completions?x=1 HTTP/1.1\r\n"
    "Host: router.example\r\n"
    "Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln\r\n"
    "Content-Type: application/json\r\n"
    "X-Canary:  always \t\r\n"
    "x-empty:\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "{\"model\":\"m\"}";

TEST(RequestParser, ReadsTheRequestLineFieldsAndBody) {
  Read r = parse(kChat);
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.used, kChat.size());
  const ProxyRequest& q = r.request;
  EXPECT_EQ(q.method(), http::verb::post);
  EXPECT_EQ(q.method_string(), "POST");
  EXPECT_EQ(q.target(), "/v1/chat/completions?x=1");
  EXPECT_EQ(q.version(), 11u);
  EXPECT_EQ(q.body(), "{\"model\":\"m\"}");
  ASSERT_EQ(q.fields().size(), 6u);
  EXPECT_EQ(q.fields()[0].name(), http::field::host);
  EXPECT_EQ(q.fields()[1].name(), http::field::authorization);
  EXPECT_EQ(q.fields()[3].name(), http::field::unknown);  // X-Canary: no enumerator
  EXPECT_EQ(q.fields()[3].name_string(), "X-Canary");
  EXPECT_EQ(q.fields()[3].value(), "always");  // whitespace around the value is not its
  EXPECT_EQ(q.fields()[4].value(), "");
  EXPECT_EQ(q.fields()[5].name(), http::field::content_length);
}

// Beast's parser was the reference: every well-formed request reads the same in both.
TEST(RequestParser, ReadsWhatBeastRead) {
  const std::vector<std::string> requests = {
      kChat,
      "GET / HTTP/1.0\r\n\r\n",
      "GET /v1/models HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x-hop\r\nx-hop: 1\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
      "PURGE /x HTTP/1.1\r\nA-B_c.d~!: v\xc3\xa9 \x80\xff value\r\n\r\n",
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;name=\"v\"\r\nabc\r\nA ; a = b ;c=\"q\\\"x;\" ;d\r\n0123456789\r\n0\r\nx-trailer: "
      "t\r\n\r\n",
      "POST /c HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
  };
  for (const auto& wire : requests) {
    SCOPED_TRACE(wire);
    http::request_parser<http::string_body> beast;
    beast.eager(true);
    error_code beast_ec;
    beast.put(boost::asio::buffer(wire), beast_ec);
    ASSERT_FALSE(beast_ec) << beast_ec.message();
    ASSERT_TRUE(beast.is_done());
    const auto& expected = beast.get();
    for (std::size_t step : {0, 1, 7}) {
      Read r = parse(wire, step);
      ASSERT_FALSE(r.ec) << r.ec.message() << " step " << step;
      EXPECT_EQ(r.request.method(), expected.method());
      EXPECT_EQ(r.request.method_string(), expected.method_string());
      EXPECT_EQ(r.request.target(), expected.target());
      EXPECT_EQ(r.request.version(), expected.version());
      EXPECT_EQ(r.request.body(), expected.body());
      std::vector<std::pair<std::string, std::string>> beast_fields;
      for (const auto& f : expected) {
        if (f.name_string() == "x-trailer") continue;  // Beast adds the trailer's; dropped here
        beast_fields.emplace_back(f.name_string(), f.value());
      }
      EXPECT_EQ(fields_of(r.request), beast_fields);
    }
  }
}

TEST(RequestParser, ReadsTheSameHoweverTheBytesAreSplit) {
  const std::string wire =
      "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n1; ext\r\n \r\n6\r\nworld!\r\n0\r\nt: 1\r\n\r\n";
  Read whole = parse(wire);
  ASSERT_FALSE(whole.ec) << whole.ec.message();
  EXPECT_EQ(whole.request.body(), "hello world!");
  for (std::size_t step = 1; step < wire.size(); ++step) {
    Read r = parse(wire, step);
    ASSERT_FALSE(r.ec) << "step " << step << ": " << r.ec.message();
    EXPECT_EQ(r.request.body(), whole.request.body()) << "step " << step;
    EXPECT_EQ(fields_of(r.request), fields_of(whole.request)) << "step " << step;
  }
}

// The head is taken alone, the body next, and what follows stays for the next request.
TEST(RequestParser, TakesNothingPastItsRequest) {
  const std::string head = "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
  const std::string wire = head + "{}GET /b HTTP/1.1\r\n\r\n";
  RequestParser parser(kHeaderLimit, kBodyLimit);
  error_code ec;
  std::size_t used = parser.put(std::string_view(wire).substr(0, head.size() - 1), ec);
  EXPECT_EQ(used, 0u);  // the head is not all there yet
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.got_some());
  EXPECT_FALSE(parser.is_header_done());
  used = parser.put(wire, ec);
  EXPECT_EQ(used, head.size());
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_FALSE(parser.is_done());
  EXPECT_EQ(parser.content_length(), 2u);
  used += parser.put(std::string_view(wire).substr(used), ec);
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(std::string_view(wire).substr(used), "GET /b HTTP/1.1\r\n\r\n");
}

struct Attack {
  const char* what;
  std::string wire;
  error_code expected;
};

class RequestParserRefuses : public ::testing::TestWithParam<Attack> {};

TEST_P(RequestParserRefuses, WithTheReasonAndHoweverSplit) {
  const Attack& attack = GetParam();
  for (std::size_t step : {0, 1, 3}) {
    Read r = parse(attack.wire, step);
    EXPECT_EQ(r.ec, attack.expected) << attack.what << ", step " << step << ": " << r.ec.message();
  }
}

std::string body_of(std::size_t n) { return std::string(n, 'b'); }

INSTANTIATE_TEST_SUITE_P(
    Attacks, RequestParserRefuses,
    ::testing::Values(
        Attack{"bare LF", "GET / HTTP/1.1\nHost: a\r\n\r\n", HttpParseError::bad_line_ending},
        Attack{"bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n",
               HttpParseError::bad_line_ending},
        Attack{"bare CR in a value", "GET / HTTP/1.1\r\nA: x\ry\r\n\r\n",
               HttpParseError::bad_field_value},
        Attack{"NUL in a value", std::string("GET / HTTP/1.1\r\nA: x\0y\r\n\r\n", 26),
               HttpParseError::bad_field_value},
        Attack{"DEL in a long value",
               "GET / HTTP/1.1\r\nA: 0123456789\x7f"
               "abcdef\r\n\r\n",
               HttpParseError::bad_field_value},
        Attack{"empty line first", "\r\nGET / HTTP/1.1\r\n\r\n", HttpParseError::bad_method},
        Attack{"method with a separator", "GE(T / HTTP/1.1\r\n\r\n", HttpParseError::bad_method},
        Attack{"two spaces", "GET  / HTTP/1.1\r\n\r\n", HttpParseError::bad_target},
        Attack{"control in the target", "GET /\x01 HTTP/1.1\r\n\r\n", HttpParseError::bad_target},
        Attack{"HTTP/0.9", "GET /\r\n\r\n", HttpParseError::bad_version},
        Attack{"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", HttpParseError::bad_version},
        Attack{"lower-case version", "GET / http/1.1\r\n\r\n", HttpParseError::bad_version},
        Attack{"space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
               HttpParseError::bad_field_name},
        Attack{"no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", HttpParseError::bad_field_name},
        Attack{"empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", HttpParseError::bad_field_name},
        Attack{"obs-fold", "GET / HTTP/1.1\r\nA: x\r\n y\r\n\r\n", HttpParseError::folded_field},
        Attack{"Connection not a token list", "GET / HTTP/1.1\r\nConnection: keep alive\r\n\r\n",
               HttpParseError::bad_connection},
        Attack{"coding list not a list", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked: t\r\n\r\n",
               HttpParseError::bad_transfer_encoding},
        Attack{"chunked twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
               HttpParseError::bad_transfer_encoding},
        Attack{"chunked not last", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
               HttpParseError::bad_transfer_encoding},
        Attack{"two coding lines",
               "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
               HttpParseError::bad_transfer_encoding},
        Attack{"length with a sign", "POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\nab",
               HttpParseError::bad_content_length},
        Attack{"length as a list", "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nab",
               HttpParseError::bad_content_length},
        Attack{"two lengths",
               "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
               HttpParseError::bad_content_length},
        Attack{"a length past 2^64",
               "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
               HttpParseError::bad_content_length},
        Attack{
            "length and chunked",
            "POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            HttpParseError::length_and_chunked},
        Attack{"chunk size not hex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
               HttpParseError::bad_chunk_size},
        Attack{"chunk size empty", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n",
               HttpParseError::bad_chunk_size},
        Attack{"chunk size past 2^64",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
               HttpParseError::bad_chunk_size},
        Attack{"chunk size line with bare LF",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\n",
               HttpParseError::bad_chunk_size},
        Attack{
            "extension quote not closed",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=\":\r\n2\r\n1}\r\n0\r\n\r\n",
            HttpParseError::bad_chunk_extension},
        Attack{"extension without a name",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;=v\r\nx\r\n0\r\n\r\n",
               HttpParseError::bad_chunk_extension},
        Attack{"extension of two words",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a b\r\nx\r\n0\r\n\r\n",
               HttpParseError::bad_chunk_extension},
        Attack{"control in an extension",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;\x01\r\n",
               HttpParseError::bad_chunk_extension},
        Attack{"chunk longer than its size",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
               HttpParseError::bad_chunk_end},
        Attack{"trailer without colon",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad\r\n\r\n",
               HttpParseError::bad_trailer},
        Attack{"trailer with bare LF",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\na: b\n\r\n",
               HttpParseError::bad_trailer},
        Attack{"cut in the body", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
               http::error::partial_message},
        Attack{"cut in the head", "POST / HTTP/1.1\r\nHost:", http::error::partial_message},
        Attack{"body over the limit", "POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n",
               http::error::body_limit},
        Attack{"chunks over the limit",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + body_of(2048) +
                   "\r\n801\r\n",
               http::error::body_limit},
        Attack{"head over the limit", "GET / HTTP/1.1\r\nA: " + body_of(1024) + "\r\n\r\n",
               http::error::header_limit},
        Attack{"endless chunk extension",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;" + body_of(2000),
               http::error::buffer_overflow},
        Attack{"endless trailer",
               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" +
                   std::string(300, 'a') + ": 1\r\n" + std::string(300, 'b') + ": 1\r\n" +
                   std::string(500, 'c') + ": 1\r\n\r\n",
               http::error::buffer_overflow}));

// The head may be exactly the limit: the outcome at the limit does not depend on the reads.
TEST(RequestParser, HoldsTheHeadToItsLimitExactly) {
  const std::string start = "GET / HTTP/1.1\r\nA: ";
  const std::string end = "\r\n\r\n";
  std::string at_limit = start + body_of(kHeaderLimit - start.size() - end.size()) + end;
  ASSERT_EQ(at_limit.size(), kHeaderLimit);
  std::string over = start + body_of(kHeaderLimit - start.size() - end.size() + 1) + end;
  for (std::size_t step : {0, 1, 100, 1023}) {
    EXPECT_FALSE(parse(at_limit, step).ec) << step;
    EXPECT_EQ(parse(over, step).ec, http::error::header_limit) << step;
  }
}

TEST(RequestParser, AnAnnouncedBodyOverTheLimitIsRefusedOnTheHeader) {
  Read r = parse("POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n");
  EXPECT_EQ(r.ec, http::error::body_limit);
  EXPECT_TRUE(r.header_done);  // the 413 names the request
  EXPECT_EQ(r.request.target(), "/");
}

// Each byte value at each place of a value of each length up to 40 (blocks of 16 and 8 and
// the overlapping last ones), in both the SIMD and the portable check.
TEST(RequestParser, FieldValueCheckTakesEveryByteItShould) {
  for (unsigned c = 0; c < 256; ++c) {
    bool allowed = c == '\t' || (c >= 0x20 && c != 0x7f);
    for (std::size_t size = 1; size <= 40; ++size) {
      for (std::size_t at = 0; at < size; ++at) {
        std::string value(size, 'v');
        value[at] = static_cast<char>(c);
        ASSERT_EQ(is_field_value(value), allowed) << c << " at " << at << " of " << size;
        ASSERT_EQ(is_field_value_portable(value), allowed) << c << " at " << at << " of " << size;
      }
    }
  }
  EXPECT_TRUE(is_field_value(""));
  EXPECT_TRUE(is_field_value_portable(""));
}

// A name's token characters are found 16 at a time and then one by one: the same count as
// the byte table's at each place, for every byte value, in names of each length up to 40.
TEST(RequestParser, TokenPrefixStopsAtTheFirstByteThatIsNoTokenCharacter) {
  const std::string_view usual = "Content-Length-0123456789-abcdefghijklmnopqrstuvwxyzABCDEFG";
  for (unsigned c = 0; c < 256; ++c) {
    for (std::size_t size = 1; size <= 40; ++size) {
      for (std::size_t at = 0; at < size; ++at) {
        std::string name(usual.substr(0, size));
        name[at] = static_cast<char>(c);
        std::size_t expected = 0;
        while (expected < name.size() && is_token_char(static_cast<unsigned char>(name[expected])))
          ++expected;
        ASSERT_EQ(token_prefix(name), expected) << c << " at " << at << " of " << size;
      }
    }
  }
  EXPECT_EQ(token_prefix(""), 0u);
}

TEST(RequestParser, ACopyOfARequestOwnsItsBytes) {
  std::optional<ProxyRequest> original = parse(kChat).request;
  ProxyRequest copy = *original;
  ProxyRequest moved = std::move(*original);
  original.reset();
  EXPECT_EQ(copy.target(), "/v1/chat/completions?x=1");
  EXPECT_EQ(copy.method_string(), "POST");
  EXPECT_EQ(fields_of(copy), fields_of(moved));
  EXPECT_EQ(copy.fields()[3].value(), "always");
  copy.target("/v1/completions");
  EXPECT_EQ(copy.target(), "/v1/completions");
  EXPECT_EQ(moved.target(), "/v1/chat/completions?x=1");
}

}  // namespace
}  // namespace duet::router
