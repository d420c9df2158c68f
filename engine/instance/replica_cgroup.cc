#include "engine/instance/replica_cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

#include "duet/common/file_text.h"

namespace duet::engine {

namespace fs = std::filesystem;

namespace {

// Whether the comma-separated `list` ("rw,memory", "cpu,cpuacct") holds `word`.
bool lists(const std::string& list, const std::string& word) {
  std::istringstream items(list);
  for (std::string item; std::getline(items, item, ',');)
    if (item == word) return true;
  return false;
}

// A cgroup mount point, from /proc/self/mountinfo (field 5 is the mount point; the file
// system type and its options follow the " - " separator): the cgroup2 one when
// `controller` is empty, else the cgroup v1 hierarchy that has that controller.
std::string cgroup_mount(const std::string& proc_root, const std::string& controller = {}) {
  std::istringstream in(read_text_file(proc_root + "/self/mountinfo").value_or(""));
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string type, source, options;
    tail >> type >> source >> options;
    if (controller.empty() ? type != "cgroup2" : type != "cgroup" || !lists(options, controller)) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string field, mount;
    for (int i = 0; i < 5 && fields >> field; ++i) mount = field;
    return mount;
  }
  return {};
}

// duetd's own cgroup path in /proc/self/cgroup: the cgroup v2 one ("0::/system.slice/duetd.service")
// when `controller` is empty, else the v1 hierarchy's that has it ("4:memory:/x").
std::string own_cgroup(const std::string& proc_root, const std::string& controller = {}) {
  std::istringstream in(read_text_file(proc_root + "/self/cgroup").value_or(""));
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    auto names = line.substr(first + 1, second - first - 1);
    if (controller.empty() ? line.starts_with("0::") : lists(names, controller)) return line.substr(second + 1);
  }
  return {};
}

bool writable(const std::string& folder) { return ::access(folder.c_str(), W_OK) == 0; }

constexpr const char* kLimitControllers[] = {"memory", "pids"};

// duetd's own folder in the cgroup v1 hierarchy of `controller`; empty when there is none.
std::string v1_folder_of_own(const std::string& proc_root, const std::string& controller) {
  auto mount = cgroup_mount(proc_root, controller);
  auto own = own_cgroup(proc_root, controller);
  if (mount.empty() || own.empty()) return {};
  return mount + (own == "/" ? "" : own);
}

// Turns the limit controllers on for the root's children where cgroup v2 offers them; for
// the others, a folder named as the root in the controller's v1 hierarchy, if one is writable.
std::set<std::string> enabled_controllers(const std::string& root) {
  std::istringstream words(read_text_file(root + "/cgroup.subtree_control").value_or(""));
  std::set<std::string> on;
  for (std::string w; words >> w;) on.insert(w);
  return on;
}

void place_limit_controllers(CgroupRoot& root, const std::string& proc_root) {
  auto on = enabled_controllers(root.path);
  for (const char* controller : kLimitControllers)
    if (!on.count(controller)) write_knob(root.path + "/cgroup.subtree_control", std::string("+") + controller);
  on = enabled_controllers(root.path);
  for (const char* controller : kLimitControllers) {
    if (on.count(controller)) continue;
    auto own = v1_folder_of_own(proc_root, controller);
    if (own.empty()) continue;
    auto folder = own + "/" + fs::path(root.path).filename().string();
    // Tried here, made again by the first replica with a limit: a duetd whose replicas have
    // none leaves nothing in the v1 hierarchies.
    bool made = ::access(folder.c_str(), F_OK) != 0;
    if (create_cgroup(folder) && writable(folder + "/cgroup.procs")) root.v1_roots[controller] = folder;
    if (made) remove_cgroup(folder);
  }
}

std::string hex(std::size_t value) {
  std::ostringstream out;
  out << std::hex << value;
  return out.str();
}

}  // namespace

std::optional<CgroupRoot> CgroupRoot::open(const std::string& configured, const std::string& state_dir,
                                           const std::string& proc_root, std::string& why) {
  if (configured == "none") {
    why = "cgroupRoot is none";
    return std::nullopt;
  }
  std::string root = configured;
  if (configured.empty() || configured == "auto") {
    auto mount = cgroup_mount(proc_root);
    auto own = own_cgroup(proc_root);
    if (mount.empty() || own.empty()) {
      why = "no cgroup2 file system mounted, or duetd is in no cgroup of it";
      return std::nullopt;
    }
    std::string mine = mount + (own == "/" ? "" : own);
    if (own != "/" && writable(mine))
      root = mine + "/engines";
    else
      root = mine + "/duet-" + hex(std::hash<std::string>{}(fs::absolute(state_dir).string()));
  }
  if (!create_cgroup(root) || !writable(root + "/cgroup.procs")) {
    why = root + ": " + std::strerror(errno);
    return std::nullopt;
  }
  CgroupRoot opened{root, {}};
  place_limit_controllers(opened, proc_root);
  return opened;
}

std::string CgroupRoot::replica_v1(const std::string& controller, const std::string& name) const {
  auto it = v1_roots.find(controller);
  return it == v1_roots.end() ? std::string() : it->second + "/" + name;
}

std::string CgroupRoot::controller_place(const std::string& controller) const {
  if (auto it = v1_roots.find(controller); it != v1_roots.end()) return it->second;
  return enabled_controllers(path).count(controller) ? "v2" : "none";
}

std::vector<std::string> CgroupRoot::replicas() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path, ec))
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  return names;
}

bool write_knob(const std::string& path, std::string_view value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  ::close(fd);
  return ok;
}

bool create_cgroup(const std::string& cgroup) {
  return ::mkdir(cgroup.c_str(), 0755) == 0 || errno == EEXIST;
}

std::vector<pid_t> cgroup_processes(const std::string& cgroup) {
  std::vector<pid_t> pids;
  std::istringstream in(read_text_file(cgroup + "/cgroup.procs").value_or(""));
  for (pid_t pid; in >> pid;) pids.push_back(pid);
  return pids;
}

std::size_t kill_cgroup(const std::string& cgroup) {
  auto pids = cgroup_processes(cgroup);
  std::size_t found = pids.size();
  if (pids.empty()) return 0;
  std::ofstream kill_file(cgroup + "/cgroup.kill");
  if (kill_file && (kill_file << "1").flush()) return found;
  // Before cgroup.kill: one by one, again while new ones appear (a fork in between).
  for (int round = 0; round < 10 && !pids.empty(); ++round) {
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    pids = cgroup_processes(cgroup);
  }
  return found;
}

bool remove_cgroup(const std::string& cgroup) {
  return ::rmdir(cgroup.c_str()) == 0 || errno == ENOENT;
}

namespace {

// Tries again every 100 ms while the killed processes are reaped (kept alive by its timer).
struct CgroupRemoval : std::enable_shared_from_this<CgroupRemoval> {
  CgroupRemoval(boost::asio::any_io_executor ex, std::string path) : timer(ex), cgroup(std::move(path)) {}
  void next() {
    timer.expires_after(std::chrono::milliseconds(100));
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || remove_cgroup(self->cgroup) || --self->left == 0) return;
      self->next();
    });
  }
  boost::asio::steady_timer timer;
  std::string cgroup;
  int left = 50;
};

}  // namespace

void remove_cgroup_soon(boost::asio::any_io_executor ex, std::string cgroup) {
  if (remove_cgroup(cgroup)) return;
  std::make_shared<CgroupRemoval>(std::move(ex), std::move(cgroup))->next();
}

CgroupUsage cgroup_usage(const std::string& cgroup) {
  CgroupUsage usage;
  if (auto memory = read_text_file(cgroup + "/memory.current")) {
    try {
      usage.memory_bytes = std::stoull(*memory);
    } catch (const std::exception&) {
    }
  }
  std::istringstream stat(read_text_file(cgroup + "/cpu.stat").value_or(""));
  std::string key;
  for (uint64_t value; stat >> key >> value;)
    if (key == "usage_usec") usage.cpu_seconds = static_cast<double>(value) / 1e6;
  return usage;
}

}  // namespace duet::engine
