#include "router/forward_headers.h"

#include <gtest/gtest.h>

namespace duet::router {
namespace {

namespace http = boost::beast::http;

TEST(ForwardHeaders, UpstreamRequestDropsHopByHopAndKeepsTheRest) {
  ProxyRequest request(http::verb::post, "/v1/completions", 10);
  request.set(http::field::connection, "close, x-private");
  request.set("x-private", "secret");
  request.set(http::field::keep_alive, "timeout=5");
  request.set(http::field::expect, "100-continue");
  request.set(http::field::authorization, "Bearer t");
  request.set("x-forwarded-for", "10.0.0.1");
  request.body() = "{}";
  prepare_upstream_request(request, "127.0.0.9:5555");
  EXPECT_EQ(request.version(), 11);
  EXPECT_TRUE(request.keep_alive());
  EXPECT_EQ(request.count("x-private"), 0u);
  EXPECT_EQ(request.count(http::field::keep_alive), 0u);
  EXPECT_EQ(request.count(http::field::expect), 0u);
  EXPECT_EQ(request[http::field::authorization], "Bearer t");
  EXPECT_EQ(request["x-forwarded-for"], "10.0.0.1, 127.0.0.9");
  EXPECT_EQ(request[http::field::content_length], "2");
}

RelayedResponse response_with(std::string_view length, bool chunked) {
  RelayedResponse res(http::status::ok, 11);
  if (!length.empty()) res.set(http::field::content_length, length);
  if (chunked) res.chunked(true);
  res.set(http::field::connection, "keep-alive");
  return res;
}

const ServedBy kServedBy{"chat", "chat-small/small-0", "stable"};

TEST(ForwardHeaders, ClientResponseKeepsContentLengthAndNamesTheBackend) {
  auto res = response_with("237", false);
  prepare_client_response(res, 11, true, false, kServedBy);
  EXPECT_EQ(res[http::field::content_length], "237");
  EXPECT_FALSE(res.chunked());
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(res["x-duet-route"], "chat");
  EXPECT_EQ(res["x-duet-backend"], "chat-small/small-0");
  EXPECT_EQ(res["x-duet-version"], "stable");
}

TEST(ForwardHeaders, ChunkedStaysChunkedForHttp11) {
  auto res = response_with("", true);
  prepare_client_response(res, 11, true, false, kServedBy);
  EXPECT_TRUE(res.chunked());
  EXPECT_TRUE(res.keep_alive());
}

TEST(ForwardHeaders, BodyUntilCloseBecomesChunkedForHttp11) {
  auto res = response_with("", false);
  prepare_client_response(res, 11, true, true, kServedBy);
  EXPECT_TRUE(res.chunked());
  EXPECT_TRUE(res.keep_alive());
}

TEST(ForwardHeaders, Http10ClientGetsTheBodyUntilClose) {
  auto res = response_with("", true);
  prepare_client_response(res, 10, true, false, kServedBy);
  EXPECT_FALSE(res.chunked());
  EXPECT_FALSE(res.keep_alive());
  auto sized = response_with("5", false);
  prepare_client_response(sized, 10, true, false, kServedBy);
  EXPECT_EQ(sized[http::field::content_length], "5");
  EXPECT_TRUE(sized.keep_alive());
}

TEST(ForwardHeaders, ClientAskingToCloseGetsClose) {
  auto res = response_with("1", false);
  prepare_client_response(res, 11, false, false, kServedBy);
  EXPECT_FALSE(res.keep_alive());
}

}  // namespace
}  // namespace duet::router
