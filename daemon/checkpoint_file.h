#pragma once
// A checksummed JSON checkpoint written atomically (temp file, fsync, rename, fsync of the
// folder), with the previous good file kept beside it for when the newest one is damaged.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace duet::daemon {

class CheckpointFile {
 public:
  explicit CheckpointFile(std::filesystem::path path) : path_(std::move(path)) {}

  // Replaces the checkpoint with `data`; the one it replaces becomes the previous one.
  // Throws std::system_error naming the file.
  void write(const nlohmann::json& data) const;

  struct Loaded {
    nlohmann::json data;  // null when there was nothing good to load
    std::string from;     // "current", "previous" or "none"
    std::string problem;  // why a file was not used, for the log; empty if none was damaged
    // With no good file: the damaged ones, as kept aside now or by an earlier start.
    std::vector<std::filesystem::path> damaged;
    // Damaged files and no good one: starting empty would forget what was applied.
    bool state_lost() const { return data.is_null() && !damaged.empty(); }
  };
  // Loads the newest good checkpoint. A damaged file is renamed to `<file>.corrupt-<time>`
  // (kept for a person to look at) and the previous one is tried.
  Loaded load() const;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path previous_path() const { return path_.string() + ".prev"; }

 private:
  std::filesystem::path path_;
};

// FNV-1a 64 of `text`, as 16 hex digits: catches torn and damaged files, not tampering.
std::string checksum_of(const std::string& text);

}  // namespace duet::daemon
