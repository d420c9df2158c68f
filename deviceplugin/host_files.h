#pragma once
// Small, failure-tolerant readers for /dev, /sys and /proc: a missing or odd file is an
// answer ("not there"), never an exception, since hosts differ and files come and go.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::deviceplugin {

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> read_text(const std::filesystem::path& path);

// The first line of the file as an integer (decimal), or nullopt.
std::optional<long long> read_integer(const std::filesystem::path& path);

bool path_exists(const std::filesystem::path& path);

// The N of every entry `<prefix>N` (N all digits) in `dir`, sorted: davinci0, nvidia3...
std::vector<int> numbered_entries(const std::filesystem::path& dir, std::string_view prefix);

// Names of the entries of `dir` (files, folders, links), sorted; empty when it cannot be read.
std::vector<std::string> entry_names(const std::filesystem::path& dir);

// Parses a kernel cpu list ("0-3,8,10-11"); nullopt when malformed.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

// Writes a sorted cpu list back in the kernel's compact form ("0-3,8").
std::string format_cpu_list(const std::vector<int>& cpus);

std::string_view trim(std::string_view text);

// Parses "Key: value" / "key\t: value" lines; the value after the first `:`, trimmed. For
// /proc/cpuinfo and /proc/driver/nvidia/gpus/*/information.
std::optional<std::string> field_value(std::string_view line, std::string_view key);

// Parses an integer written in decimal or 0x-hex; nullopt when it is neither.
std::optional<long long> parse_integer(std::string_view text);

// "0000:06:00.0" from "00000000:06:00.0" or "0000:06:00.0" (NVML pads the domain to 8 digits,
// sysfs uses 4), lower case so ids from both sources match.
std::string normalize_pci_bus_id(std::string_view bus_id);

}  // namespace duet::deviceplugin
