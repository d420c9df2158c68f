#pragma once
// How long a batching step takes on a device: a roofline of the device's peak compute and
// memory bandwidth (the vendors' public figures, cited in engine/README.md) for one model
// shape. A step is bound by whichever is slower: computing its tokens (2 FLOPs per parameter
// per token) or reading the weights and the KV of every sequence in it. The KV capacity is
// what the device's memory holds after the weights, as vLLM's gpu_memory_utilization 0.9.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::sim::model {

struct DeviceProfile {
  std::string name;
  double peak_tflops = 0;     // dense BF16/FP16
  double memory_gbps = 0;     // HBM (or DRAM) bandwidth, GB/s
  double memory_gib = 0;
  double compute_efficiency = 0.5;  // MFU a good engine reaches in prefill
  double memory_efficiency = 0.7;   // share of peak bandwidth decode reaches
  double step_overhead_us = 300;    // scheduling and launch cost of one step
};

// An 8B-parameter dense model in 16-bit (Llama-3-8B's shape): weights and KV per token.
struct ModelShape {
  double parameters = 8.0e9;
  double bytes_per_parameter = 2;
  double kv_bytes_per_token = 131072;  // 2 (K,V) x 32 layers x 8 KV heads x 128 x 2 bytes
};

// ascend-910b, nvidia-h20, nvidia-h100, mlu370, cpu; nullopt for another name.
std::optional<DeviceProfile> find_profile(std::string_view name);
std::vector<std::string> profile_names();

// The step's duration: `compute_tokens` computed (prefill and decode together) while
// `context_tokens` of KV are read.
std::chrono::nanoseconds step_time(const DeviceProfile& device, const ModelShape& model,
                                   std::size_t compute_tokens, std::size_t context_tokens);

// KV tokens the device holds next to the weights.
std::size_t kv_capacity_tokens(const DeviceProfile& device, const ModelShape& model);

}  // namespace duet::sim::model
