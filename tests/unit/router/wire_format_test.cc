#include "router/wire_format.h"

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>

namespace duet::router {
namespace {

namespace http = boost::beast::http;

TEST(WireFormat, RequestIsStartLineFieldsInOrderThenTheBody) {
  http::request<http::string_body> request(http::verb::post, "/v1/completions?x=1", 11);
  request.set(http::field::host, "engine");
  request.set("x-forwarded-for", "10.0.0.1");
  request.body() = "{}";
  request.prepare_payload();
  EXPECT_EQ(serialize(request),
            "POST /v1/completions?x=1 HTTP/1.1\r\nHost: engine\r\nx-forwarded-for: 10.0.0.1\r\n"
            "Content-Length: 2\r\n\r\n{}");
}

TEST(WireFormat, ResponseKeepsAnOwnReasonAndOtherwiseGetsTheStandardOne) {
  http::response_header<> header;
  header.version(10);
  header.result(299);
  header.reason("Fine Really");
  header.set(http::field::content_type, "text/plain");
  std::string out;
  append_head(out, header);
  EXPECT_EQ(out, "HTTP/1.0 299 Fine Really\r\nContent-Type: text/plain\r\n\r\n");

  http::response_header<> standard;
  standard.result(http::status::service_unavailable);
  out.clear();
  append_head(out, standard);
  EXPECT_EQ(out, "HTTP/1.1 503 Service Unavailable\r\n\r\n");

  // Beast takes any three digits; what is written is always three digits, never garbage.
  http::response_header<> odd;
  odd.result(42);
  odd.reason("Odd");
  out.clear();
  append_head(out, odd);
  EXPECT_EQ(out, "HTTP/1.1 042 Odd\r\n\r\n");
}

TEST(WireFormat, ChunksCarryTheirHexSizeAndAnEmptyPieceWritesNothing) {
  std::string out;
  append_chunk(out, std::string(26, 'a'));
  append_chunk(out, "");
  append_chunk(out, "z");
  out += kLastChunk;
  EXPECT_EQ(out, "1a\r\n" + std::string(26, 'a') + "\r\n1\r\nz\r\n0\r\n\r\n");
}

TEST(WireFormat, AWriterGrowsPastItsGuessAndLeavesWhatCameBefore) {
  std::string out = "kept:";
  std::string long_value(5000, 'v');
  {
    WireWriter writer(out, 4);  // far too small a guess
    writer.put("");
    writer.field("a", long_value);
    writer.put('!');
    writer.put(std::string_view());
  }
  EXPECT_EQ(out, "kept:a: " + long_value + "\r\n!");
  {
    WireWriter writer(out, 1000);  // too large a guess: nothing of it stays
  }
  EXPECT_EQ(out.size(), 5 + 1 + 2 + long_value.size() + 2 + 1);
}

TEST(WireFormat, BeastReadsBackWhatWasWritten) {
  http::response<http::string_body> response(http::status::ok, 11);
  response.set("x-duet-route", "chat");
  response.body() = "hello";
  response.prepare_payload();
  std::string wire = serialize(response);
  http::response_parser<http::string_body> parser;
  boost::system::error_code ec;
  parser.eager(true);
  EXPECT_EQ(parser.put(boost::asio::buffer(wire), ec), wire.size());
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get()["x-duet-route"], "chat");
  EXPECT_EQ(parser.get().body(), "hello");
}

}  // namespace
}  // namespace duet::router
