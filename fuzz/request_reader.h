#pragma once
// How duet-router reads client requests (router/proxy_session_impl.h: do_read_header,
// read_request, check_header's framing step, on_read_body), without the socket: the bytes
// arrive in reads of a given size, each request gets a fresh RequestParser
// (router/request_parser.h) with the router's limits, and the bytes after one request stay
// buffered for the next. The loop around the parser mirrors the session's.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_checks.h"
#include "router/config.h"
#include "router/forward_headers.h"

namespace duet::fuzz {

struct ReadRequest {
  std::string error;  // why reading ended here; empty when the request was read whole
  bool header_done = false;
  std::string raw_head;  // the header's bytes as they came
  std::string method;
  std::string target;
  unsigned version = 0;
  FieldList header_fields;  // when the header was done (before any chunked trailer)
  FieldList fields;         // at the end, as relayed (the trailer's fields dropped)
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
  bool keep_alive = false;
  std::string body;
  std::optional<router::ProxyRequest> message;  // the request as the router relays it

  bool same_as(const ReadRequest& other) const;
  std::string describe() const;
};

// Every request the router reads from a connection carrying `bytes`, in reads that end at
// `cuts` (cut_points; none: all at once): the last one carries the error that ended the
// connection, if any.
std::vector<ReadRequest> read_requests(std::string_view bytes, const router::Limits& limits,
                                       const std::vector<std::size_t>& cuts = {});

}  // namespace duet::fuzz
