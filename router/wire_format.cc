#include "router/wire_format.h"

#include <charconv>

namespace duet::router {

namespace http = boost::beast::http;

namespace {

void append_version(std::string& out, unsigned version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void append_fields(std::string& out, const http::fields& fields) {
  for (const auto& field : fields) append_field(out, field.name_string(), field.value());
  out += "\r\n";
}

}  // namespace

void append_request_line(std::string& out, std::string_view method, std::string_view target,
                         unsigned version) {
  out.append(method).append(" ").append(target).append(" ");
  append_version(out, version);
  out += "\r\n";
}

void append_status_line(std::string& out, unsigned version, unsigned status,
                        std::string_view reason) {
  append_version(out, version);
  // Always three digits: a status under 100 (which the relay refuses before this) would
  // otherwise leave bytes of the buffer unwritten.
  const char digits[3] = {static_cast<char>('0' + status / 100 % 10),
                          static_cast<char>('0' + status / 10 % 10), static_cast<char>('0' + status % 10)};
  out += ' ';
  out.append(digits, 3);
  out += ' ';
  if (reason.empty()) reason = http::obsolete_reason(static_cast<http::status>(status));
  out += reason;
  out += "\r\n";
}

void append_head(std::string& out, const http::request_header<>& header) {
  append_request_line(out, header.method_string(), header.target(), header.version());
  append_fields(out, header);
}

void append_head(std::string& out, const http::response_header<>& header) {
  // An engine's own reason phrase is kept; none gives the standard one.
  append_status_line(out, header.version(), header.result_int(), header.reason());
  append_fields(out, header);
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char size[2 * sizeof(std::size_t)];
  auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
  out.append(size, end);
  out += "\r\n";
  out += data;
  out += "\r\n";
}

}  // namespace duet::router
