#include "daemon/checkpoint_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <system_error>

#include "duet/common/file_text.h"
#include "duet/common/hash.h"

namespace duet::daemon {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void fail(const fs::path& path, const char* what) {
  throw std::system_error(errno, std::generic_category(), std::string(what) + " " + path.string());
}

void write_all_and_sync(const fs::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail(path, "open");
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail(path, "write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail(path, "fsync");
  }
  ::close(fd);
}

// Makes the renames durable: until then a power loss may bring back the old names.
void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(dir, "open");
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail(dir, "fsync");
  }
  ::close(fd);
}

// The data of a checkpoint file, or an explanation of why it is unusable.
json read_checked(const fs::path& path, std::string& problem) {
  auto text = read_text_file(path);
  if (!text) {
    problem = "missing";
    return nullptr;
  }
  auto parsed = json::parse(*text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("data") ||
      !parsed["checksum"].is_string()) {
    problem = "not a checkpoint (unreadable JSON)";
    return nullptr;
  }
  if (checksum_of(parsed["data"].dump()) != parsed["checksum"].get<std::string>()) {
    problem = "checksum mismatch";
    return nullptr;
  }
  return std::move(parsed["data"]);
}

// Renames a damaged `file` to `<file>.corrupt-<unix time>` (a free name); returns where it is
// now, which is still `file` when the rename failed.
fs::path keep_aside(const fs::path& file) {
  auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  fs::path aside = file.string() + ".corrupt-" + std::to_string(stamp);
  for (int n = 1; fs::exists(aside); ++n)
    aside = file.string() + ".corrupt-" + std::to_string(stamp) + "-" + std::to_string(n);
  std::error_code ec;
  fs::rename(file, aside, ec);
  return ec ? file : aside;
}

// Damaged files an earlier start kept aside: `<checkpoint>.corrupt-*` and `.prev.corrupt-*`.
std::vector<fs::path> kept_aside_before(const fs::path& checkpoint) {
  std::vector<fs::path> out;
  std::error_code ec;
  auto name = checkpoint.filename().string();
  auto dir = checkpoint.parent_path().empty() ? fs::path(".") : checkpoint.parent_path();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto file = e.path().filename().string();
    if (file.starts_with(name + ".corrupt-") || file.starts_with(name + ".prev.corrupt-"))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// FNV-1a from a seed one digit short of its offset basis: a slip kept, since checkpoints
// written with it must still verify after an upgrade.
constexpr uint64_t kChecksumSeed = 1469598103934665603ull;

std::string checksum_of(const std::string& text) {
  uint64_t hash = fnv1a(text, kChecksumSeed);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

void CheckpointFile::write(const json& data) const {
  auto text = data.dump();
  json file = {{"checksum", checksum_of(text)}, {"data", data}};
  fs::path temp = path_.string() + ".tmp";
  write_all_and_sync(temp, file.dump());
  // current → previous, then temp → current. A crash between the two renames leaves no
  // current file and a good previous one, which load() uses.
  if (fs::exists(path_) && ::rename(path_.c_str(), previous_path().c_str()) != 0)
    fail(path_, "rename");
  if (::rename(temp.c_str(), path_.c_str()) != 0) fail(temp, "rename");
  sync_directory(path_.parent_path().empty() ? fs::path(".") : path_.parent_path());
}

CheckpointFile::Loaded CheckpointFile::load() const {
  Loaded out;
  for (const auto& file : {path_, previous_path()}) {
    std::string problem;
    out.data = read_checked(file, problem);
    if (!out.data.is_null()) {
      out.from = file == path_ ? "current" : "previous";
      return out;
    }
    if (problem == "missing") continue;
    auto aside = keep_aside(file);
    out.problem += (out.problem.empty() ? "" : "; ") + file.string() + ": " + problem +
                   (aside == file ? "; could not be renamed" : "; kept as " + aside.string());
    if (aside == file) out.damaged.push_back(file);
  }
  // Nothing good. Damaged files, kept aside now or by an earlier start that refused to go
  // on, mean state was lost; a state dir without any is a first start.
  out.from = "none";
  auto before = kept_aside_before(path_);
  out.damaged.insert(out.damaged.end(), before.begin(), before.end());
  return out;
}

}  // namespace duet::daemon
