#include "daemon/ctl/proxy_guard.h"

#include <algorithm>

#include "daemon/ui/ui_files.h"

namespace duet::ctl {

namespace bhttp = http::bhttp;

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_read(bhttp::verb method) { return method == bhttp::verb::get || method == bhttp::verb::head; }

}  // namespace

std::string url_host(const Address& address) {
  if (address.host.find(':') == std::string::npos) return address.host;
  std::string bracketed = "[";
  return bracketed.append(address.host).append("]");
}

std::string host_without_port(std::string_view host_header) {
  if (host_header.starts_with("[")) return std::string(host_header.substr(0, host_header.find(']') + 1));
  return std::string(host_header.substr(0, host_header.find(':')));
}

ProxyGuard::ProxyGuard(const Address& listening, const std::vector<std::string>& extra_hosts)
    : hosts_{"localhost", "127.0.0.1", "[::1]"} {
  hosts_.push_back(lowercase(url_host(listening)));
  for (const auto& list : extra_hosts) {  // repeated, or separated by commas
    std::string_view rest = list;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      if (auto host = rest.substr(0, comma); !host.empty()) hosts_.push_back(lowercase(host));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
}

std::optional<std::string> ProxyGuard::refusal(const http::RequestHeader& header) const {
  auto host_header = header[bhttp::field::host];
  auto host = lowercase(host_without_port(host_header));
  if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end())
    return std::string("Host \"")
        .append(host_header.substr(0, 100))
        .append("\" is not one this proxy serves under (--accept-hosts)");
  auto target = header.target();
  bool dashboard_page = ui::is_ui_path(target.substr(0, target.find('?'))) && is_read(header.method());
  // Browsers say where a request comes from; a tool like curl says nothing, and is let through.
  auto site = lowercase(header["Sec-Fetch-Site"]);
  if (!dashboard_page && (site == "cross-site" || site == "same-site"))
    return std::string("a request from another site (Sec-Fetch-Site: ").append(site).append(")");
  auto origin = header[bhttp::field::origin];
  if (!is_read(header.method()) && !origin.empty() &&
      lowercase(origin) != std::string("http://").append(lowercase(host_header)))
    return std::string("a ")
        .append(header.method_string())
        .append(" from another origin (")
        .append(origin.substr(0, 100))
        .append(")");
  return std::nullopt;
}

}  // namespace duet::ctl
