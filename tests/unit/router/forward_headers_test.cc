#include "router/forward_headers.h"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "request_from_wire.h"

namespace duet::router {
namespace {

namespace bhttp = boost::beast::http;

// Reads back what was written, as the engine or the client would.
template <bool isRequest>
bhttp::message<isRequest, bhttp::string_body> parse(const std::string& wire, bool head = false) {
  bhttp::parser<isRequest, bhttp::string_body> parser;
  if constexpr (!isRequest) parser.skip(head);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(wire), ec);
  EXPECT_FALSE(ec) << ec.message() << " in:\n" << wire;
  EXPECT_TRUE(parser.is_header_done()) << wire;
  return parser.release();
}

TEST(ForwardHeaders, UpstreamRequestDropsHopByHopAndCredentialsAndKeepsTheRest) {
  ProxyRequest request = test::request_from_wire(
      "POST /v1/completions HTTP/1.0\r\n"
      "Connection: close, x-private\r\n"
      "x-private: secret\r\n"
      "Keep-Alive: timeout=5\r\n"
      "Expect: 100-continue\r\n"
      "Authorization: Bearer t\r\n"
      "Proxy-Authorization: Basic eDp5\r\n"
      "x-request-id: r-1\r\n"
      "x-forwarded-for: 10.0.0.1\r\n"
      "X-Forwarded-For: 10.0.0.2\r\n"
      "Content-Length: 4\r\n\r\n"
      "{ } ");
  request.body() = "{}";  // the body as it goes on says how long it is, not the client's field
  std::string wire;
  append_upstream_request(wire, request, "127.0.0.9", false);
  auto sent = parse<true>(wire);
  EXPECT_EQ(sent.version(), 11);
  EXPECT_TRUE(sent.keep_alive());
  EXPECT_EQ(sent.count(bhttp::field::connection), 0u);
  EXPECT_EQ(sent.count("x-private"), 0u);
  EXPECT_EQ(sent.count(bhttp::field::keep_alive), 0u);
  EXPECT_EQ(sent.count(bhttp::field::expect), 0u);
  EXPECT_EQ(sent.count(bhttp::field::authorization), 0u);
  EXPECT_EQ(sent.count(bhttp::field::proxy_authorization), 0u);
  EXPECT_EQ(sent["x-request-id"], "r-1");
  EXPECT_EQ(sent.count("x-forwarded-for"), 1u);
  EXPECT_EQ(sent["x-forwarded-for"], "127.0.0.9");  // the client's own list is not trusted
  EXPECT_EQ(sent[bhttp::field::content_length], "2");
  EXPECT_EQ(sent.body(), "{}");

  wire.clear();
  append_upstream_request(wire, request, "127.0.0.9", true);  // from a trusted proxy
  sent = parse<true>(wire);
  EXPECT_EQ(sent.count("x-forwarded-for"), 1u);
  EXPECT_EQ(sent["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 127.0.0.9");
}

TEST(ForwardHeaders, BodylessGetHasNoLengthAndAChunkedUploadGoesWithOne) {
  ProxyRequest get = test::request_from_wire("GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string wire;
  append_upstream_request(wire, get, "127.0.0.9", false);
  EXPECT_EQ(parse<true>(wire).count(bhttp::field::content_length), 0u);

  ProxyRequest upload = test::request_from_wire(
      "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "a\r\n{\"prompt\":\r\n5;x=y\r\n\"hi\"}\r\n0\r\nx-trailer: dropped\r\n\r\n");
  EXPECT_EQ(upload.body(), "{\"prompt\":\"hi\"}");
  wire.clear();
  append_upstream_request(wire, upload, "127.0.0.9", false);
  auto sent = parse<true>(wire);
  EXPECT_FALSE(sent.chunked());
  EXPECT_EQ(sent[bhttp::field::content_length], "15");
  EXPECT_EQ(sent.body(), upload.body());
}

ResponseHead engine_header(std::string_view length, bool chunked) {
  std::string wire = "HTTP/1.1 200 OK\r\n";
  if (!length.empty()) wire.append("Content-Length: ").append(length).append("\r\n");
  if (chunked) wire += "Transfer-Encoding: chunked\r\n";
  wire += "Connection: keep-alive\r\nx-duet-route: forged by the engine\r\n\r\n";
  ResponseParser parser(64 * 1024, false);
  std::string body;
  boost::system::error_code ec;
  EXPECT_EQ(parser.put(wire, body, ec), wire.size());
  EXPECT_FALSE(ec) << ec.message();
  return parser.get();
}

const ServedBy kServedBy{"chat", "chat-small/small-0", "stable"};

// The client's view of the head written for `header`.
bhttp::response<bhttp::string_body> client_view(const ResponseHead& header,
                                              EngineFraming engine, unsigned client_version,
                                              bool client_keep_alive, ClientFraming* framing) {
  std::string wire;
  *framing = append_client_response_head(wire, header, engine, client_version, client_keep_alive,
                                         kServedBy);
  return parse<false>(wire, /*head=*/true);
}

TEST(ForwardHeaders, ClientResponseKeepsContentLengthAndNamesTheBackend) {
  ClientFraming framing;
  auto res = client_view(engine_header("237", false), {}, 11, true, &framing);
  EXPECT_EQ(res[bhttp::field::content_length], "237");
  EXPECT_FALSE(res.chunked());
  EXPECT_FALSE(framing.chunked);
  EXPECT_TRUE(res.keep_alive());
  EXPECT_TRUE(framing.keep_alive);
  EXPECT_EQ(res.count("x-duet-route"), 1u);
  EXPECT_EQ(res["x-duet-route"], "chat");
  EXPECT_EQ(res["x-duet-backend"], "chat-small/small-0");
  EXPECT_EQ(res["x-duet-version"], "stable");
}

TEST(ForwardHeaders, ChunkedStaysChunkedForHttp11) {
  ClientFraming framing;
  auto res = client_view(engine_header("", true), {.chunked = true}, 11, true, &framing);
  EXPECT_TRUE(res.chunked());
  EXPECT_TRUE(framing.chunked);
  EXPECT_TRUE(res.keep_alive());
}

TEST(ForwardHeaders, BodyUntilCloseBecomesChunkedForHttp11) {
  ClientFraming framing;
  auto res = client_view(engine_header("", false), {.until_eof = true}, 11, true, &framing);
  EXPECT_TRUE(res.chunked());
  EXPECT_TRUE(framing.chunked);
  EXPECT_TRUE(res.keep_alive());
}

TEST(ForwardHeaders, Http10ClientGetsTheBodyUntilClose) {
  ClientFraming framing;
  auto res = client_view(engine_header("", true), {.chunked = true}, 10, true, &framing);
  EXPECT_EQ(res.version(), 10);
  EXPECT_FALSE(res.chunked());
  EXPECT_FALSE(framing.chunked);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_FALSE(framing.keep_alive);
  auto sized = client_view(engine_header("5", false), {}, 10, true, &framing);
  EXPECT_EQ(sized[bhttp::field::content_length], "5");
  EXPECT_TRUE(sized.keep_alive());
  EXPECT_TRUE(framing.keep_alive);
}

TEST(ForwardHeaders, ClientAskingToCloseGetsClose) {
  ClientFraming framing;
  auto res = client_view(engine_header("1", false), {}, 11, false, &framing);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_FALSE(framing.keep_alive);
}

}  // namespace
}  // namespace duet::router
