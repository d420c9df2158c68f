#pragma once
// The few DCMI entry points and structures duet uses, declared from Huawei's published DCMI
// API reference (dcmi_interface_api.h) so that no vendor header is needed at build time.
// Shared with the fake libdcmi.so of the tests.

#include <cstdint>

namespace duet::deviceplugin::dcmi {

constexpr int kMaxCards = 64;           // MAX_CARD_NUM
constexpr int kMaxChipNameLength = 32;  // MAX_CHIP_NAME_LEN
constexpr int kOk = 0;

struct ChipInfo {  // struct dcmi_chip_info
  unsigned char chip_type[kMaxChipNameLength];
  unsigned char chip_name[kMaxChipNameLength];
  unsigned char chip_ver[kMaxChipNameLength];
  unsigned int aicore_cnt;
};

struct PcieInfoAll {  // struct dcmi_pcie_info_all, 64 bytes
  unsigned int venderid;
  unsigned int subvenderid;
  unsigned int deviceid;
  unsigned int subdeviceid;
  int domain;
  unsigned int bdf_busid;
  unsigned int bdf_deviceid;
  unsigned int bdf_funcid;
  unsigned char reserve[32];
};

struct HbmInfo {  // struct dcmi_hbm_info; memory sizes in MB
  unsigned long long memory_size;
  unsigned int freq;
  unsigned long long memory_usage;
  int temp;
  unsigned int bandwith_util_rate;
};

static_assert(sizeof(PcieInfoAll) == 64, "dcmi_pcie_info_all is 64 bytes");

using InitFn = int();
using GetCardNumListFn = int(int* card_num, int* card_list, int list_len);
using GetDeviceNumInCardFn = int(int card_id, int* device_num);
using GetDeviceLogicIdFn = int(int* device_logic_id, int card_id, int device_id);
using GetPhyIdFromLogicIdFn = int(unsigned int logic_id, unsigned int* phy_id);
using GetDeviceChipInfoFn = int(int card_id, int device_id, ChipInfo* chip_info);
using GetDeviceHealthFn = int(int card_id, int device_id, unsigned int* health);
using GetDevicePcieInfoV2Fn = int(int card_id, int device_id, PcieInfoAll* pcie_info);
using GetDeviceHbmInfoFn = int(int card_id, int device_id, HbmInfo* hbm_info);

}  // namespace duet::deviceplugin::dcmi
