#include "deviceplugin/ascend/dcmi.h"

#include <cstdio>
#include <cstring>

#include "deviceplugin/ascend/dcmi_api.h"

namespace duet::deviceplugin {

namespace {

// DCMI's structures grew between driver releases; slack after each one means a newer library
// writing a longer structure stays inside our buffer.
template <typename T>
struct Padded {
  T value{};
  unsigned char slack[256]{};
};

std::string fixed_string(const unsigned char* text, std::size_t size) {
  const char* s = reinterpret_cast<const char*>(text);
  return std::string(s, ::strnlen(s, size));
}

std::string pci_address(const dcmi::PcieInfoAll& info) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", static_cast<unsigned>(info.domain) & 0xffff,
                info.bdf_busid & 0xff, info.bdf_deviceid & 0x1f, info.bdf_funcid & 0x7);
  return buf;
}

}  // namespace

struct Dcmi::Api {
  dcmi::InitFn* init = nullptr;
  dcmi::GetCardNumListFn* card_list = nullptr;
  dcmi::GetDeviceNumInCardFn* device_num = nullptr;
  dcmi::GetDeviceLogicIdFn* logic_id = nullptr;
  dcmi::GetPhyIdFromLogicIdFn* phy_id = nullptr;  // optional: physical id = logical id without
  dcmi::GetDeviceChipInfoFn* chip_info = nullptr;
  dcmi::GetDeviceHealthFn* health = nullptr;
  dcmi::GetDevicePcieInfoV2Fn* pcie_info = nullptr;  // optional
  dcmi::GetDeviceHbmInfoFn* hbm_info = nullptr;      // optional (910 only)
};

Dcmi::Dcmi(DynamicLibrary lib, std::unique_ptr<Api> api)
    : lib_(std::move(lib)), api_(std::move(api)) {}

Dcmi::~Dcmi() = default;

std::unique_ptr<Dcmi> Dcmi::load(const std::vector<std::string>& names, std::string& why) {
  auto lib = DynamicLibrary::open(names);
  if (!lib.loaded()) {
    why = lib.error();
    return nullptr;
  }
  auto api = std::make_unique<Api>();
  lib.require(api->init, "dcmi_init");
  lib.require(api->card_list, "dcmi_get_card_num_list");
  lib.require(api->device_num, "dcmi_get_device_num_in_card");
  lib.require(api->logic_id, "dcmi_get_device_logic_id");
  lib.require(api->chip_info, "dcmi_get_device_chip_info");
  lib.require(api->health, "dcmi_get_device_health");
  if (auto missing = lib.missing_symbols(); !missing.empty()) {
    why = missing;
    return nullptr;
  }
  lib.bind(api->phy_id, "dcmi_get_device_phyid_from_logicid");
  lib.bind(api->pcie_info, "dcmi_get_device_pcie_info_v2");
  lib.bind(api->hbm_info, "dcmi_get_device_hbm_info");
  if (int rc = api->init(); rc != dcmi::kOk) {
    why = lib.name() + ": dcmi_init returned " + std::to_string(rc);
    return nullptr;
  }
  return std::unique_ptr<Dcmi>(new Dcmi(std::move(lib), std::move(api)));
}

std::vector<DcmiChip> Dcmi::chips() const {
  int card_count = 0;
  int cards[dcmi::kMaxCards] = {};
  if (api_->card_list(&card_count, cards, dcmi::kMaxCards) != dcmi::kOk) return {};
  if (card_count < 0 || card_count > dcmi::kMaxCards) return {};
  std::vector<DcmiChip> out;
  for (int c = 0; c < card_count; ++c) {
    int devices = 0;
    if (api_->device_num(cards[c], &devices) != dcmi::kOk || devices < 0 || devices > 16) continue;
    for (int d = 0; d < devices; ++d) out.push_back(read_chip(cards[c], d));
  }
  return out;
}

DcmiChip Dcmi::read_chip(int card, int device) const {
  DcmiChip chip;
  chip.card = card;
  chip.device = device;
  int logic = -1;
  if (int rc = api_->logic_id(&logic, card, device); rc != dcmi::kOk) {
    chip.error = "dcmi_get_device_logic_id returned " + std::to_string(rc);
    return chip;
  }
  chip.logical_id = logic;
  chip.physical_id = logic;
  unsigned phy = 0;
  if (api_->phy_id && api_->phy_id(static_cast<unsigned>(logic), &phy) == dcmi::kOk)
    chip.physical_id = static_cast<int>(phy);
  Padded<dcmi::ChipInfo> info;
  if (api_->chip_info(card, device, &info.value) == dcmi::kOk) {
    chip.chip_type = fixed_string(info.value.chip_type, sizeof info.value.chip_type);
    chip.chip_name = fixed_string(info.value.chip_name, sizeof info.value.chip_name);
  }
  Padded<dcmi::PcieInfoAll> pcie;
  if (api_->pcie_info && api_->pcie_info(card, device, &pcie.value) == dcmi::kOk)
    chip.pci_bus_id = pci_address(pcie.value);
  Padded<dcmi::HbmInfo> hbm;
  if (api_->hbm_info && api_->hbm_info(card, device, &hbm.value) == dcmi::kOk)
    chip.memory_bytes = hbm.value.memory_size * 1024ull * 1024ull;
  unsigned health = 0;
  if (int rc = api_->health(card, device, &health); rc == dcmi::kOk) {
    chip.health_known = true;
    chip.health = health;
  } else {
    chip.error = "dcmi_get_device_health returned " + std::to_string(rc);
  }
  return chip;
}

std::string dcmi_health_text(unsigned health) {
  switch (health) {
    case 0:
      return "";
    case 1:
      return "minor alarm (DCMI health 1)";
    case 2:
      return "major alarm (DCMI health 2)";
    case 3:
      return "critical alarm (DCMI health 3)";
    case 0xffffffffu:
      return "device not present (DCMI health 0xffffffff)";
    default:
      return "unknown DCMI health " + std::to_string(health);
  }
}

}  // namespace duet::deviceplugin
