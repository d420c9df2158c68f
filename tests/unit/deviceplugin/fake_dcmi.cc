// A stand-in for Huawei's libdcmi.so, loaded by the ascend plugin through dlopen exactly like
// the real one: one NPU per card, chip name, logical ids, health and PCI address set by tests
// through the fake_dcmi_* functions.

#include <cstdio>
#include <cstring>
#include <map>

#include "deviceplugin/ascend/dcmi_api.h"

namespace dcmi = duet::deviceplugin::dcmi;

namespace {

struct State {
  int chips = 0;
  char chip_name[dcmi::kMaxChipNameLength] = "910B3";
  int init_result = 0;
  std::map<int, unsigned> health;  // by physical id
  std::map<int, int> logical;      // physical -> logical; identity when absent
} state;

int logical_of(int phys) {
  auto it = state.logical.find(phys);
  return it == state.logical.end() ? phys : it->second;
}

}  // namespace

extern "C" {

// Test controls.
void fake_dcmi_configure(int chips, const char* chip_name) {
  state = State{};
  state.chips = chips;
  std::snprintf(state.chip_name, sizeof state.chip_name, "%s", chip_name);
}
void fake_dcmi_set_health(int phys, unsigned health) { state.health[phys] = health; }
void fake_dcmi_set_logical(int phys, int logical) { state.logical[phys] = logical; }
void fake_dcmi_set_init_result(int rc) { state.init_result = rc; }

// The DCMI API. Card ids are the physical ids, as on a 910 server with one NPU per card.
int dcmi_init() { return state.init_result; }

int dcmi_get_card_num_list(int* card_num, int* card_list, int list_len) {
  *card_num = state.chips < list_len ? state.chips : list_len;
  for (int i = 0; i < *card_num; ++i) card_list[i] = i;
  return 0;
}

int dcmi_get_device_num_in_card(int, int* device_num) {
  *device_num = 1;
  return 0;
}

int dcmi_get_device_logic_id(int* logic_id, int card_id, int) {
  *logic_id = logical_of(card_id);
  return 0;
}

int dcmi_get_device_phyid_from_logicid(unsigned int logic_id, unsigned int* phy_id) {
  for (int p = 0; p < state.chips; ++p)
    if (logical_of(p) == static_cast<int>(logic_id)) {
      *phy_id = static_cast<unsigned>(p);
      return 0;
    }
  return -8001;
}

int dcmi_get_device_chip_info(int, int, dcmi::ChipInfo* info) {
  std::memset(info, 0, sizeof *info);
  std::memcpy(info->chip_type, "Ascend", 6);
  std::memcpy(info->chip_name, state.chip_name, std::strlen(state.chip_name));
  info->aicore_cnt = 24;
  return 0;
}

int dcmi_get_device_health(int card_id, int, unsigned int* health) {
  auto it = state.health.find(card_id);
  *health = it == state.health.end() ? 0 : it->second;
  return 0;
}

int dcmi_get_device_pcie_info_v2(int card_id, int, dcmi::PcieInfoAll* info) {
  std::memset(info, 0, sizeof *info);
  info->domain = 0;
  info->bdf_busid = 0xc1 + static_cast<unsigned>(card_id);
  return 0;
}

int dcmi_get_device_hbm_info(int, int, dcmi::HbmInfo* info) {
  std::memset(info, 0, sizeof *info);
  info->memory_size = 65536;  // MB
  return 0;
}

}  // extern "C"
