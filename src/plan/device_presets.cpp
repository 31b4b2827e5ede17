#include "plan/device_presets.h"

namespace mixq {

const char* platform_name(Platform p) {
  switch (p) {
    case Platform::Cuda: return "cuda";
    case Platform::Rocm: return "rocm";
    case Platform::Metal: return "metal";
    case Platform::Cpu: return "cpu";
  }
  return "?";
}

namespace {
constexpr uint64_t MiB = 1ull << 20, GiB = 1ull << 30;
constexpr double GBs = 1e9;

// Discrete GPUs: exposed == memory (what nvidia-smi / rocm-smi report) and one machine holds up to
// 8 of them (a plan for 2 RTX cards is one workstation, not two machines joined by Ray). Runtime reserve: vLLM's
// non-torch memory (CUDA/HIP context, NCCL/RCCL buffers) plus CUDA-graph capture, which its
// profiler does not always count; 1.5 GiB is the order vLLM logs show for one GPU (docs/plan.md).
std::vector<DevicePreset> make() {
  std::vector<DevicePreset> v;
  auto add = [&](DevicePreset p) { v.push_back(std::move(p)); };
  // Strix Halo: the GPU sees the GTT pool. 124 GiB is the kyuz0 toolbox setting (amdgpu.gttsize=126976,
  // ttm.pages_limit=32505856) that the STRIX-2H card points to. The 13.25 GiB runtime reserve is
  // calibrated on a measured two-node run of that checkpoint (kyuz0/amd-strix-halo-vllm-toolboxes
  // PR #56: 24.09 GiB KV per rank at utilization 0.90, 64 seqs, 16384 batched tokens): what vLLM
  // on ROCm/UMA keeps beyond weights and activations (RCCL, allocator, non-torch memory; that run was
  // eager). Eager by default: HIP graphs measured -15% decode at 512 tokens, -71% at 16K on gfx1151.
  add({"strix-halo", "AMD Ryzen AI Max+ 395 (gfx1151), 128 GiB LPDDR5X-8000 unified, 256-bit bus", 128 * GiB, 124 * GiB,
       256 * GBs, true, Platform::Rocm, 1, 13 * GiB + GiB / 4,
       "256 GB/s = 8000 MT/s x 256 bit (chipsandcheese; ~212 GB/s measured); exposed 124 GiB = kyuz0 toolbox GTT "
       "(amdgpu.gttsize=126976); runtime reserve 13.25 GiB calibrated on kyuz0/amd-strix-halo-vllm-toolboxes PR #56",
       /*enforce_eager=*/true});
  add({"h100-80g", "NVIDIA H100 SXM 80GB HBM3", 81559 * MiB, 81559 * MiB, 3350 * GBs, false, Platform::Cuda, 8,
       GiB + GiB / 2, "NVIDIA H100 datasheet: 80 GB, 3.35 TB/s; 81559 MiB as nvidia-smi reports"});
  add({"h200", "NVIDIA H200 SXM 141GB HBM3e", 143771 * MiB, 143771 * MiB, 4800 * GBs, false, Platform::Cuda, 8,
       GiB + GiB / 2, "NVIDIA H200 datasheet: 141 GB, 4.8 TB/s; 143771 MiB as nvidia-smi reports"});
  add({"a100-80g", "NVIDIA A100 SXM 80GB HBM2e", 81920 * MiB, 81920 * MiB, 2039 * GBs, false, Platform::Cuda, 8,
       GiB + GiB / 2, "NVIDIA A100 datasheet: 80 GB, 2,039 GB/s (SXM)"});
  add({"mi300x", "AMD Instinct MI300X 192GB HBM3", 192 * GiB, 192 * GiB, 5300 * GBs, false, Platform::Rocm, 8,
       2 * GiB, "AMD MI300X datasheet: 192 GB HBM3, 5.3 TB/s"});
  add({"rtx-4090", "NVIDIA GeForce RTX 4090 24GB GDDR6X", 24564 * MiB, 24564 * MiB, 1008 * GBs, false, Platform::Cuda, 8,
       GiB, "NVIDIA RTX 4090 spec: 24 GB GDDR6X, 1,008 GB/s"});
  add({"rtx-pro-6000", "NVIDIA RTX PRO 6000 Blackwell 96GB GDDR7", 97887 * MiB, 97887 * MiB, 1792 * GBs, false,
       Platform::Cuda, 8, GiB + GiB / 2, "NVIDIA RTX PRO 6000 Blackwell spec: 96 GB GDDR7, 1,792 GB/s"});
  add({"dgx-spark", "NVIDIA DGX Spark (GB10), 128 GB LPDDR5X unified", 128 * GiB, 119 * GiB, 273 * GBs, true,
       Platform::Cuda, 1, 4 * GiB, "NVIDIA DGX Spark spec: 273 GB/s; ~119 GiB usable by CUDA (user reports)"});
  add({"m3-ultra", "Apple M3 Ultra, 512 GB unified", 512 * GiB, 384 * GiB, 819 * GBs, true, Platform::Metal, 1, 4 * GiB,
       "Apple M3 Ultra spec: 819 GB/s; Metal's default working set is ~75% of unified memory"});
  add({"epyc-ddr5", "AMD EPYC, 12 x DDR5-6400 (CPU only)", 768 * GiB, 768 * GiB, 614.4 * GBs, true, Platform::Cpu, 1,
       8 * GiB, "12 channels x 6400 MT/s x 8 B = 614.4 GB/s; 12 x 64 GB DIMMs"});
  return v;
}
}  // namespace

const std::vector<DevicePreset>& device_presets() {
  static const std::vector<DevicePreset> v = make();
  return v;
}

const DevicePreset* find_device_preset(const std::string& name) {
  for (const auto& p : device_presets())
    if (p.name == name) return &p;
  return nullptr;
}

std::string device_preset_names() {
  std::string s;
  for (const auto& p : device_presets()) s += (s.empty() ? "" : ", ") + p.name;
  return s;
}

}  // namespace mixq
