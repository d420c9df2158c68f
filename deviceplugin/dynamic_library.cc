#include "deviceplugin/dynamic_library.h"

#include <dlfcn.h>

#include <utility>

namespace duet::deviceplugin {

DynamicLibrary::~DynamicLibrary() { close(); }

DynamicLibrary::DynamicLibrary(DynamicLibrary&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      name_(std::move(other.name_)),
      error_(std::move(other.error_)),
      missing_(std::move(other.missing_)) {}

DynamicLibrary& DynamicLibrary::operator=(DynamicLibrary&& other) noexcept {
  if (this != &other) {
    close();
    handle_ = std::exchange(other.handle_, nullptr);
    name_ = std::move(other.name_);
    error_ = std::move(other.error_);
    missing_ = std::move(other.missing_);
  }
  return *this;
}

DynamicLibrary DynamicLibrary::open(const std::vector<std::string>& names) {
  DynamicLibrary lib;
  for (const auto& name : names) {
    // RTLD_NOW: a missing dependency of the vendor library shows up here, with its name,
    // instead of as a crash on the first call. RTLD_LOCAL: its symbols stay out of ours.
    void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      lib.handle_ = handle;
      lib.name_ = name;
      lib.error_.clear();
      return lib;
    }
    const char* why = ::dlerror();
    if (!lib.error_.empty()) lib.error_ += "; ";
    lib.error_ += why ? why : name + ": dlopen failed";
  }
  if (!names.empty()) lib.name_ = names.front();
  if (names.empty()) lib.error_ = "no library name given";
  return lib;
}

void* DynamicLibrary::symbol(const char* symbol) const {
  if (!handle_) return nullptr;
  return ::dlsym(handle_, symbol);
}

std::string DynamicLibrary::missing_symbols() const {
  if (missing_.empty()) return "";
  std::string names;
  for (const auto& m : missing_) names += (names.empty() ? "" : ", ") + m;
  return name_ + ": symbol " + names + " not found";
}

void DynamicLibrary::close() {
  if (handle_) ::dlclose(std::exchange(handle_, nullptr));
}

}  // namespace duet::deviceplugin
