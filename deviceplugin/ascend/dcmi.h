#pragma once
// Huawei's DCMI library (libdcmi.so), opened at run time: chip model, logical id, PCI address,
// memory and health of every NPU. Declarations are ours; no vendor header is needed to build.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/dynamic_library.h"

namespace duet::deviceplugin {

// One NPU as DCMI sees it.
struct DcmiChip {
  int card = -1;
  int device = -1;  // device index inside the card
  int logical_id = -1;
  int physical_id = -1;            // the N of /dev/davinciN
  std::string chip_type;           // "Ascend"
  std::string chip_name;           // "910B3", "310P3"
  std::string pci_bus_id;          // empty when DCMI cannot say
  std::uint64_t memory_bytes = 0;  // HBM size; 0 when DCMI cannot say
  bool health_known = false;
  unsigned health = 0;  // DCMI: 0 ok, 1 minor, 2 major, 3 critical alarm
  std::string error;    // a query that failed, for the health reason
};

class Dcmi {
 public:
  // Opens the first of `names` that loads and calls dcmi_init. On failure returns null and
  // sets `why` to what went wrong (dlerror text, a missing symbol, dcmi_init's error code).
  static std::unique_ptr<Dcmi> load(const std::vector<std::string>& names, std::string& why);
  ~Dcmi();

  // Every NPU of every card, read now.
  std::vector<DcmiChip> chips() const;

  const std::string& library() const { return lib_.name(); }

 private:
  struct Api;
  Dcmi(DynamicLibrary lib, std::unique_ptr<Api> api);

  DcmiChip read_chip(int card, int device) const;

  DynamicLibrary lib_;
  std::unique_ptr<Api> api_;
};

// Words for DCMI's health value, empty when it means healthy without remark.
std::string dcmi_health_text(unsigned health);

}  // namespace duet::deviceplugin
