// The fuzz targets' main() in `make test` (GCC has no libFuzzer): replays every corpus file,
// then runs cheap blind mutations of them (bit flips, byte inserts and deletes, splices,
// dictionary tokens) for a few seconds, from a fixed seed so that a run can be repeated. No
// coverage feedback: that is `make fuzz`'s job (fuzz/README.md). On a crash the input is
// written to the artifacts folder before the process dies.
//
//   TARGET [--seconds S] [--runs N] [--seed N] [--max-len N] [--dict FILE]
//          [--artifacts DIR] CORPUS_DIR_OR_FILE...

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "duet/common/hash.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// The sanitizers' runtime, when linked, calls this back before it ends the process.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

struct Options {
  double seconds = 3;
  uint64_t runs = UINT64_MAX;  // mutations; the time limit usually ends the run first
  uint64_t seed = 1;
  std::size_t max_len = 4096;
  std::string dict;
  std::string artifacts = ".";
  std::vector<std::string> paths;
};

// The input being run, for the crash handlers (which may only use async-signal-safe calls).
const uint8_t* g_input = nullptr;
std::size_t g_input_size = 0;
char g_artifact_path[4096];

void write_crash_input() {
  if (!g_input) return;
  // Named after the input's hash (fnv1a: no allocation, safe in a signal handler).
  uint64_t hash = duet::fnv1a({reinterpret_cast<const char*>(g_input), g_input_size});
  std::size_t n = std::strlen(g_artifact_path);
  for (int shift = 60; shift >= 0 && n + 1 < sizeof g_artifact_path; shift -= 4)
    g_artifact_path[n++] = "0123456789abcdef"[(hash >> shift) & 15];
  g_artifact_path[n] = '\0';
  int fd = ::open(g_artifact_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  for (std::size_t done = 0; done < g_input_size;) {
    ssize_t w = ::write(fd, g_input + done, g_input_size - done);
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
  ::close(fd);
  constexpr char kSaid[] = "driver: the crashing input is in ";
  [[maybe_unused]] auto a = ::write(2, kSaid, sizeof kSaid - 1);
  [[maybe_unused]] auto b = ::write(2, g_artifact_path, n);
  [[maybe_unused]] auto c = ::write(2, "\n", 1);
  g_input = nullptr;
}

void on_signal(int sig) {
  write_crash_input();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run_one(const Bytes& input) {
  // A copy of exactly the input's size, so that ASan sees a read past its end.
  auto* copy = new uint8_t[input.size() ? input.size() : 1];
  if (!input.empty()) std::memcpy(copy, input.data(), input.size());
  g_input = copy;
  g_input_size = input.size();
  LLVMFuzzerTestOneInput(copy, input.size());
  g_input = nullptr;
  delete[] copy;
}

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<Bytes> load_corpus(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      for (const auto& entry : fs::recursive_directory_iterator(p))
        if (entry.is_regular_file()) files.push_back(entry.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "driver: %s: no such file or folder\n", p.c_str());
      std::exit(2);
    }
  }
  std::sort(files.begin(), files.end());  // the same order everywhere: a deterministic run
  std::vector<Bytes> corpus;
  for (const auto& f : files) corpus.push_back(read_file(f));
  return corpus;
}

// libFuzzer's dictionary format: one `"token"` (optionally `name="token"`) a line, with
// \\, \" and \xAB escapes; `#` starts a comment.
std::vector<Bytes> load_dict(const std::string& path) {
  std::vector<Bytes> tokens;
  if (path.empty()) return tokens;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "driver: cannot read the dictionary %s\n", path.c_str());
    std::exit(2);
  }
  for (std::string line; std::getline(in, line);) {
    auto open = line.find('"');
    auto close = line.rfind('"');
    if (line.empty() || line[0] == '#' || open == std::string::npos || close <= open) continue;
    Bytes token;
    for (std::size_t i = open + 1; i < close; ++i) {
      if (line[i] == '\\' && i + 1 < close && line[i + 1] == 'x' && i + 3 < close) {
        token.push_back(static_cast<uint8_t>(std::stoi(line.substr(i + 2, 2), nullptr, 16)));
        i += 3;
      } else if (line[i] == '\\' && i + 1 < close) {
        token.push_back(static_cast<uint8_t>(line[++i]));
      } else {
        token.push_back(static_cast<uint8_t>(line[i]));
      }
    }
    if (!token.empty()) tokens.push_back(std::move(token));
  }
  return tokens;
}

class Mutator {
 public:
  Mutator(uint64_t seed, const std::vector<Bytes>& corpus, const std::vector<Bytes>& dict,
          std::size_t max_len)
      : rng_(seed), corpus_(corpus), dict_(dict), max_len_(max_len) {}

  Bytes next() {
    Bytes data = corpus_.empty() ? Bytes{} : corpus_[below(corpus_.size())];
    for (std::size_t steps = 1 + below(4); steps > 0; --steps) mutate(data);
    if (data.size() > max_len_) data.resize(max_len_);
    return data;
  }

 private:
  std::size_t below(std::size_t n) { return n == 0 ? 0 : rng_() % n; }

  uint8_t some_byte() {
    static constexpr uint8_t kInteresting[] = {0,   0xff, 0x7f, 0x80, '\r', '\n', ' ', '\t',
                                               ':', ',',  '"',  '0',  '9',  'f',  '{', '['};
    return below(2) ? static_cast<uint8_t>(rng_()) : kInteresting[below(sizeof kInteresting)];
  }

  void mutate(Bytes& d) {
    std::size_t at = below(d.size() + 1);
    switch (below(9)) {
      case 0:  // flip a bit
        if (!d.empty()) d[below(d.size())] ^= static_cast<uint8_t>(1u << below(8));
        break;
      case 1:  // set a byte
        if (!d.empty()) d[below(d.size())] = some_byte();
        break;
      case 2:  // insert bytes
        d.insert(d.begin() + static_cast<std::ptrdiff_t>(at), 1 + below(4), some_byte());
        break;
      case 3: {  // delete a range
        std::size_t n = std::min(d.size() - std::min(at, d.size()), 1 + below(8));
        d.erase(d.begin() + static_cast<std::ptrdiff_t>(at),
                d.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 4: {  // copy a range of itself elsewhere
        if (d.empty()) break;
        std::size_t from = below(d.size());
        std::size_t n = 1 + below(std::min<std::size_t>(d.size() - from, 64));
        Bytes part(d.begin() + static_cast<std::ptrdiff_t>(from),
                   d.begin() + static_cast<std::ptrdiff_t>(from + n));
        d.insert(d.begin() + static_cast<std::ptrdiff_t>(at), part.begin(), part.end());
        break;
      }
      case 5: {  // splice: this one's head, another's tail
        if (corpus_.empty()) break;
        const Bytes& other = corpus_[below(corpus_.size())];
        std::size_t from = below(other.size() + 1);
        d.resize(at);
        d.insert(d.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
      case 6:    // insert a dictionary token
      case 7: {  // or overwrite with one
        if (dict_.empty()) break;
        const Bytes& token = dict_[below(dict_.size())];
        if (below(2) && at + token.size() <= d.size())
          std::copy(token.begin(), token.end(), d.begin() + static_cast<std::ptrdiff_t>(at));
        else
          d.insert(d.begin() + static_cast<std::ptrdiff_t>(at), token.begin(), token.end());
        break;
      }
      default:  // truncate
        d.resize(at);
        break;
    }
  }

  std::mt19937_64 rng_;
  const std::vector<Bytes>& corpus_;
  const std::vector<Bytes>& dict_;
  std::size_t max_len_;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "driver: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seconds")
      o.seconds = std::stod(value());
    else if (arg == "--runs")
      o.runs = std::stoull(value());
    else if (arg == "--seed")
      o.seed = std::stoull(value());
    else if (arg == "--max-len")
      o.max_len = std::stoull(value());
    else if (arg == "--dict")
      o.dict = value();
    else if (arg == "--artifacts")
      o.artifacts = value();
    else
      o.paths.push_back(arg);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  std::snprintf(g_artifact_path, sizeof g_artifact_path - 20, "%s/crash-", o.artifacts.c_str());
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(write_crash_input);
  for (int sig : {SIGABRT, SIGILL, SIGSEGV, SIGBUS, SIGFPE}) std::signal(sig, on_signal);

  std::vector<Bytes> corpus = load_corpus(o.paths);
  std::vector<Bytes> dict = load_dict(o.dict);
  for (const auto& input : corpus) run_one(input);
  std::printf("driver: replayed %zu corpus files\n", corpus.size());

  Mutator mutator(o.seed, corpus, dict, o.max_len);
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration<double>(o.seconds);
  uint64_t runs = 0;
  while (runs < o.runs && (runs % 64 != 0 || std::chrono::steady_clock::now() < deadline)) {
    run_one(mutator.next());
    ++runs;
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("driver: %llu mutated inputs in %.1f s (seed %llu), no finding\n",
              static_cast<unsigned long long>(runs), elapsed,
              static_cast<unsigned long long>(o.seed));
  return 0;
}
