// Accelerator presets for `mixq plan`: memory per device, the part of it the runtime exposes to
// vLLM, peak memory bandwidth, and how many devices one machine holds. Every number and its source
// is listed in docs/plan.md; a preset is a starting point, each field can be overridden.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mixq {

enum class Platform { Cuda, Rocm, Metal, Cpu };
const char* platform_name(Platform p);

struct DevicePreset {
  std::string name;         // "strix-halo", "h100-80g", ...
  std::string description;  // one line for --help and reports
  uint64_t memory_bytes = 0;   // physical memory per device (unified: the whole pool)
  uint64_t exposed_bytes = 0;  // what the runtime reports as device memory (vLLM's "total")
  double bandwidth = 0;        // peak bytes/s per device (spec sheet)
  bool unified = false;        // CPU and GPU share the memory (APU, Apple, GB10)
  Platform platform = Platform::Cuda;
  int devices_per_node = 1;
  uint64_t runtime_reserve = 0;  // non-torch memory + graph capture per device (see docs/plan.md)
  std::string source;            // where the numbers come from
  bool enforce_eager = false;    // serve without CUDA/HIP graphs by default
};

const std::vector<DevicePreset>& device_presets();
const DevicePreset* find_device_preset(const std::string& name);  // nullptr when unknown
std::string device_preset_names();                                // "a100-80g, h100-80g, ..."

}  // namespace mixq
