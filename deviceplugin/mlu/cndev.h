#pragma once
// Cambricon's device library (libcndev.so), opened at run time and used minimally: how many
// MLUs, each one's card name and health. Structures are versioned; we pass oversized buffers.

#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/dynamic_library.h"

namespace duet::deviceplugin {

struct CndevCard {
  int index = -1;
  std::string name;  // "MLU370-X8"; empty when the library cannot say
  bool health_known = false;
  bool healthy = true;
  std::string error;  // a query that failed
};

class Cndev {
 public:
  // Opens the first of `names` that loads and calls cndevInit(0); null and `why` on failure.
  static std::unique_ptr<Cndev> load(const std::vector<std::string>& names, std::string& why);
  ~Cndev();

  std::vector<CndevCard> cards() const;
  const std::string& library() const { return lib_.name(); }

 private:
  struct Api;
  Cndev(DynamicLibrary lib, std::unique_ptr<Api> api);

  DynamicLibrary lib_;
  std::unique_ptr<Api> api_;
};

}  // namespace duet::deviceplugin
