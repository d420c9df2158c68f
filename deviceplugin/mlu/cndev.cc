#include "deviceplugin/mlu/cndev.h"

#include <cstring>

namespace duet::deviceplugin {

namespace {

// cndev structures start with an `int version` the caller sets; later versions append
// fields. A zeroed, generously sized buffer keeps a newer library inside our memory.
constexpr int kCndevVersion = 5;  // CNDEV_VERSION_5

struct VersionedBuffer {
  alignas(8) unsigned char bytes[1024] = {};
  VersionedBuffer() { std::memcpy(bytes, &kCndevVersion, sizeof kCndevVersion); }
  void* data() { return bytes; }
  // The int field right after `version` (cndevCardInfo_t.number, cndevCardHealthState_t.health).
  int second_int() const {
    int v = 0;
    std::memcpy(&v, bytes + sizeof(int), sizeof v);
    return v;
  }
};

using InitFn = int(int reserved);
using GetDeviceCountFn = int(void* card_info);
using GetHealthStateFn = int(void* health_state, int device);
using GetCardNameStringByDevIdFn = const char*(int device);
using GetErrorStringFn = const char*(int error);
// cndevDevice_t is an int; newer libraries want a handle looked up by index, older ones the
// index itself.
using GetDeviceHandleByIndexFn = int(int index, int* handle);

}  // namespace

struct Cndev::Api {
  InitFn* init = nullptr;
  GetDeviceCountFn* count = nullptr;
  GetHealthStateFn* health = nullptr;          // optional
  GetCardNameStringByDevIdFn* name = nullptr;  // optional
  GetErrorStringFn* error_string = nullptr;    // optional
  GetDeviceHandleByIndexFn* handle = nullptr;  // optional
};

Cndev::Cndev(DynamicLibrary lib, std::unique_ptr<Api> api)
    : lib_(std::move(lib)), api_(std::move(api)) {}

Cndev::~Cndev() = default;

std::unique_ptr<Cndev> Cndev::load(const std::vector<std::string>& names, std::string& why) {
  auto lib = DynamicLibrary::open(names);
  if (!lib.loaded()) {
    why = lib.error();
    return nullptr;
  }
  auto api = std::make_unique<Api>();
  lib.require(api->init, "cndevInit");
  lib.require(api->count, "cndevGetDeviceCount");
  if (auto missing = lib.missing_symbols(); !missing.empty()) {
    why = missing;
    return nullptr;
  }
  lib.bind(api->health, "cndevGetCardHealthState");
  lib.bind(api->name, "cndevGetCardNameStringByDevId");
  lib.bind(api->error_string, "cndevGetErrorString");
  lib.bind(api->handle, "cndevGetDeviceHandleByIndex");
  if (int rc = api->init(0); rc != 0) {
    const char* text = api->error_string ? api->error_string(rc) : nullptr;
    why = lib.name() + ": cndevInit: " + (text ? text : "error " + std::to_string(rc));
    return nullptr;
  }
  return std::unique_ptr<Cndev>(new Cndev(std::move(lib), std::move(api)));
}

std::vector<CndevCard> Cndev::cards() const {
  VersionedBuffer info;
  if (api_->count(info.data()) != 0) return {};
  int count = info.second_int();
  std::vector<CndevCard> out;
  for (int i = 0; i < count && i < 64; ++i) {
    CndevCard card;
    card.index = i;
    int device = i;
    if (api_->handle && api_->handle(i, &device) != 0) device = i;
    if (api_->name) {
      const char* name = api_->name(device);
      if (name) card.name = name;
    }
    if (api_->health) {
      VersionedBuffer state;
      if (int rc = api_->health(state.data(), device); rc == 0) {
        card.health_known = true;
        card.healthy = state.second_int() != 0;  // cndev: 1 healthy, 0 unhealthy
      } else {
        card.error = "cndevGetCardHealthState returned " + std::to_string(rc);
      }
    }
    out.push_back(std::move(card));
  }
  return out;
}

}  // namespace duet::deviceplugin
