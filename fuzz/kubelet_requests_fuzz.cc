// kubelet's GetPreferredAllocation and Allocate requests as duet-kubelet-plugin checks and
// answers them (deviceplugin/kubelet/container_requests.cc), on a fixed 910 board of 8 with
// device 6 Unhealthy. The first byte picks the RPC, the rest is the request's protobuf.
// Checks: nothing throws or reads out of bounds; an accepted preference has exactly
// allocation_size distinct available ids, every must-include among them; an accepted
// Allocate names exactly the ids asked for, all known and healthy.

#include <cstdint>
#include <set>
#include <string>

#include "deviceplugin/ascend/ascend_inventory.h"
#include "deviceplugin/kubelet/container_requests.h"
#include "fuzz_check.h"

namespace {

using namespace duet::deviceplugin;
using namespace duet::deviceplugin::kubelet;

const Resource& resource() {
  static const Resource r{"huawei.com/Ascend910", "ascend", "Ascend910"};
  return r;
}

const ResourceView& view() {
  static const ResourceView v = [] {
    std::vector<Device> devices;
    for (int i = 0; i < 8; ++i) {
      Device d;
      d.kind = "ascend";
      d.id = std::to_string(i);
      d.index = d.logical_id = i;
      d.model = "Ascend910B3";
      d.device_nodes = {"/dev/davinci" + d.id};
      if (i == 6) d.health.fail("device node /dev/davinci6 is missing");
      devices.push_back(d);
    }
    auto inventory = std::make_shared<AscendInventory>(
        std::move(devices), "910B3", std::vector<std::string>{"/dev/davinci_manager"});
    return ResourceView::of(resource(), inventory);
  }();
  return v;
}

void check_preferred(const v1beta1::PreferredAllocationRequest& request,
                     const AnswerContext& context) {
  for (const auto& container : request.container_requests()) {
    v1beta1::ContainerPreferredAllocationResponse response;
    if (!preferred_allocation(container, "c", context, &response).ok()) continue;
    std::set<std::string> chosen(response.deviceids().begin(), response.deviceids().end());
    std::set<std::string> available(container.available_deviceids().begin(),
                                    container.available_deviceids().end());
    DUET_FUZZ_CHECK(chosen.size() == static_cast<std::size_t>(response.deviceids_size()),
                    "a preferred id twice");
    DUET_FUZZ_CHECK(response.deviceids_size() == container.allocation_size(),
                    "a preference of another size than asked");
    for (const auto& id : chosen) DUET_FUZZ_CHECK(available.count(id), "a preferred id not available");
    for (const auto& id : container.must_include_deviceids())
      DUET_FUZZ_CHECK(chosen.count(id), "a must-include id left out");
  }
}

void check_allocate(const v1beta1::AllocateRequest& request, const AnswerContext& context) {
  for (const auto& container : request.container_requests()) {
    v1beta1::ContainerAllocateResponse response;
    if (!container_allocation(container, "c", context, &response).ok()) continue;
    std::set<std::string> asked(container.devices_ids().begin(), container.devices_ids().end());
    for (const auto& id : asked) {
      const Device* d = context.view.find(id);
      DUET_FUZZ_CHECK(d && d->health.ok(), "an unknown or unhealthy device allocated");
    }
    auto visible = response.envs().find("ASCEND_VISIBLE_DEVICES");
    DUET_FUZZ_CHECK(visible != response.envs().end(), "no ASCEND_VISIBLE_DEVICES");
    DUET_FUZZ_CHECK(response.devices_size() == static_cast<int>(asked.size()) + 1,
                    "device nodes other than the devices' and the manager's");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  VendorRuntime runtime;
  AnswerContext context{resource(), view(), runtime, "/dev"};
  if (data[0] & 1) {
    v1beta1::AllocateRequest request;
    if (request.ParseFromArray(data + 1, static_cast<int>(size - 1))) {
      if (check_container_count("Allocate", request.container_requests_size()).ok())
        check_allocate(request, context);
    }
  } else {
    v1beta1::PreferredAllocationRequest request;
    if (request.ParseFromArray(data + 1, static_cast<int>(size - 1))) {
      if (check_container_count("GetPreferredAllocation", request.container_requests_size()).ok())
        check_preferred(request, context);
    }
  }
  return 0;
}
