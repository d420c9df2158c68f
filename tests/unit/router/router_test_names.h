#pragma once
// The names every process test of duet-router uses, brought from duet::test into
// duet::router once instead of in each test file.

#include <chrono>
#include <nlohmann/json.hpp>

#include "support/router_process.h"
#include "support/sim_process.h"

namespace duet::router {

using duet::test::completion;
using duet::test::endpoint_of;
using duet::test::ProxyClient;
using duet::test::RouterProcess;
using duet::test::SimProcess;
using nlohmann::json;
using namespace std::chrono_literals;

}  // namespace duet::router
