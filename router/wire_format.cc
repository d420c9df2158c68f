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
  for (const auto& field : fields) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

void append_head(std::string& out, const http::request_header<>& header) {
  out += header.method_string();
  out += ' ';
  out += header.target();
  out += ' ';
  append_version(out, header.version());
  out += "\r\n";
  append_fields(out, header);
}

void append_head(std::string& out, const http::response_header<>& header) {
  append_version(out, header.version());
  char status[4];
  std::to_chars(status, status + 3, header.result_int() % 1000);
  out += ' ';
  out.append(status, 3);
  out += ' ';
  // An engine's own reason phrase is kept; none gives the standard one.
  out += header.reason();
  out += "\r\n";
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
