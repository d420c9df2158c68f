#include "deviceplugin/host_files.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>

#include "duet/common/file_text.h"

namespace duet::deviceplugin {

namespace fs = std::filesystem;

std::optional<std::string> read_text(const fs::path& path) { return read_text_file(path); }

std::optional<long long> read_integer(const fs::path& path) {
  auto text = read_text(path);
  if (!text) return std::nullopt;
  std::string_view first(*text);
  first = first.substr(0, first.find('\n'));
  return parse_integer(trim(first));
}

bool path_exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::vector<std::string> entry_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<int> numbered_entries(const fs::path& dir, std::string_view prefix) {
  std::vector<int> numbers;
  for (const auto& name : entry_names(dir)) {
    std::string_view view(name);
    if (!view.starts_with(prefix) || view.size() == prefix.size() ||
        view.size() > prefix.size() + 6)
      continue;
    auto digits = view.substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    int n = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), n);
    numbers.push_back(n);
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> cpus;
  text = trim(text);
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    auto dash = item.find('-');
    int first = 0, last = 0;
    auto a = item.substr(0, dash);
    if (std::from_chars(a.data(), a.data() + a.size(), first).ec != std::errc{})
      return std::nullopt;
    last = first;
    if (dash != std::string_view::npos) {
      auto b = item.substr(dash + 1);
      if (std::from_chars(b.data(), b.data() + b.size(), last).ec != std::errc{})
        return std::nullopt;
    }
    // A bound keeps a corrupt file from making us build a huge vector.
    if (first < 0 || last < first || last > 65535) return std::nullopt;
    for (int c = first; c <= last; ++c) cpus.push_back(c);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::string_view trim(std::string_view text) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<std::string> field_value(std::string_view line, std::string_view key) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  if (trim(line.substr(0, colon)) != key) return std::nullopt;
  return std::string(trim(line.substr(colon + 1)));
}

std::optional<long long> parse_integer(std::string_view text) {
  text = trim(text);
  int base = 10;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
    base = 16;
  }
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string normalize_pci_bus_id(std::string_view bus_id) {
  std::string id(trim(bus_id));
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // domain:bus:device.function; keep the last 4 digits of a longer domain.
  auto colon = id.find(':');
  if (colon != std::string::npos && colon > 4) id.erase(0, colon - 4);
  return id;
}

}  // namespace duet::deviceplugin
