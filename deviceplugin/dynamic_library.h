#pragma once
// A vendor library opened at run time (dlopen), so duet runs on hosts without it and says
// exactly why when it is missing: the dlerror text of every name tried.

#include <string>
#include <vector>

namespace duet::deviceplugin {

class DynamicLibrary {
 public:
  DynamicLibrary() = default;
  ~DynamicLibrary();
  DynamicLibrary(DynamicLibrary&& other) noexcept;
  DynamicLibrary& operator=(DynamicLibrary&& other) noexcept;
  DynamicLibrary(const DynamicLibrary&) = delete;
  DynamicLibrary& operator=(const DynamicLibrary&) = delete;

  // Tries each name (a soname searched on the loader path, or an absolute path) in order and
  // keeps the first that loads. When none does, error() holds every dlerror text.
  static DynamicLibrary open(const std::vector<std::string>& names);

  bool loaded() const { return handle_ != nullptr; }
  // The name that loaded, or the first name tried when none did.
  const std::string& name() const { return name_; }
  const std::string& error() const { return error_; }

  // The address of `symbol`, or nullptr when the library lacks it.
  void* symbol(const char* symbol) const;

  // Sets `fn` to `symbol`; false (and `fn` null) when absent. Vendor libraries gain and lose
  // entry points between versions, so each caller decides which ones it cannot do without.
  template <typename Fn>
  bool bind(Fn*& fn, const char* symbol_name) const {
    fn = reinterpret_cast<Fn*>(symbol(symbol_name));
    return fn != nullptr;
  }

  // Like bind(), for an entry point the caller cannot do without: a missing one is remembered
  // for missing_symbols().
  template <typename Fn>
  void require(Fn*& fn, const char* symbol_name) {
    if (!bind(fn, symbol_name)) missing_.push_back(symbol_name);
  }

  // "<library>: symbol a, b not found" for the required symbols that were absent; empty if none.
  std::string missing_symbols() const;

 private:
  void close();

  void* handle_ = nullptr;
  std::string name_;
  std::string error_;
  std::vector<std::string> missing_;
};

}  // namespace duet::deviceplugin
