#pragma once
// duetctl's commands (SPEC §7). Each returns the process exit code: 0 ok, 1 error, 2 usage.

#include <string>
#include <vector>

#include "duet/common/address.h"

namespace duet::ctl {

// Thrown for a command line duetctl cannot make sense of (exit 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Context {
  Address server;
  std::string output;  // "", wide, json, yaml
};

int apply(const Context& ctx, const std::vector<std::string>& files);
int get(const Context& ctx, const std::string& resource, const std::string& name);
int remove(const Context& ctx, const std::string& resource, const std::string& name);

}  // namespace duet::ctl
