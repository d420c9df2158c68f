#include "router/wire_format.h"

#include <algorithm>
#include <charconv>

namespace duet::router {

namespace http = boost::beast::http;

WireWriter::WireWriter(std::string& out, std::size_t expected) : out_(out) {
  std::size_t used = out.size();
  out.resize(used + expected);
  next_ = out.data() + used;
  end_ = out.data() + out.size();
}

void WireWriter::grow(std::size_t more) {
  std::size_t used = static_cast<std::size_t>(next_ - out_.data());
  out_.resize(std::max(2 * out_.size(), used + more + 256));
  next_ = out_.data() + used;
  end_ = out_.data() + out_.size();
}

namespace {

void append_version(WireWriter& out, unsigned version) {
  out.put("HTTP/");
  out.put(static_cast<char>('0' + version / 10));
  out.put('.');
  out.put(static_cast<char>('0' + version % 10));
}

void append_fields(WireWriter& out, const http::fields& fields) {
  for (const auto& field : fields) out.field(field.name_string(), field.value());
  out.put("\r\n");
}

}  // namespace

void append_request_line(WireWriter& out, std::string_view method, std::string_view target,
                         unsigned version) {
  out.put(method);
  out.put(' ');
  out.put(target);
  out.put(' ');
  append_version(out, version);
  out.put("\r\n");
}

void append_status_line(WireWriter& out, unsigned version, unsigned status,
                        std::string_view reason) {
  append_version(out, version);
  // Always three digits: a status under 100 (which the relay refuses before this) would
  // otherwise leave bytes of the buffer unwritten.
  const char digits[3] = {static_cast<char>('0' + status / 100 % 10),
                          static_cast<char>('0' + status / 10 % 10),
                          static_cast<char>('0' + status % 10)};
  out.put(' ');
  out.put({digits, 3});
  out.put(' ');
  if (reason.empty()) reason = http::obsolete_reason(static_cast<http::status>(status));
  out.put(reason);
  out.put("\r\n");
}

void append_head(std::string& out, const http::request_header<>& header) {
  WireWriter writer(
      out, request_line_size(header.method_string(), header.target()) + fields_size(header));
  append_request_line(writer, header.method_string(), header.target(), header.version());
  append_fields(writer, header);
}

void append_head(std::string& out, const http::response_header<>& header) {
  // An engine's own reason phrase is kept; none gives the standard one.
  WireWriter writer(out, status_line_size(header.reason()) + fields_size(header));
  append_status_line(writer, header.version(), header.result_int(), header.reason());
  append_fields(writer, header);
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
