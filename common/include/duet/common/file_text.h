#pragma once
// Reading small files that may vanish while being read (/proc/PID/*, sysfs): a failure is an
// answer, never an exception, since processes end and devices come and go.

#include <filesystem>
#include <optional>
#include <string>

namespace duet {

// The whole file, or nullopt when it cannot be opened or read.
std::optional<std::string> read_text_file(const std::filesystem::path& path);

}  // namespace duet
