// Where the engine's commands keep a model's weights when neither --mmap nor --no-mmap is given.
//
// Read into RAM (Residency::Ram, 2 MB huge pages, INT4 interleaved for the rows16 kernel) decodes
// faster than mapped files: on the 2-core test machine 79-85 % of the decode roofline against
// 64-74 % for BF16, and 75-79 % against 66-68 % for W4A16 (docs/perf-engine.md, round 6). It
// costs a read of every byte at load and RAM equal to the checkpoint, so it is chosen only when
// the checkpoints fit in half of the memory available now (MemAvailable); a model that does not
// (MiniMax-M2's 230B on a 128 GB box) stays mapped, which never needs more than the page cache.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/mapped_file.h"

namespace mixq {

struct ResidencyChoice {
  Residency residency = Residency::Mapped;
  uint64_t weight_bytes = 0;     // the *.safetensors files of all the directories
  uint64_t available_bytes = 0;  // MemAvailable (0: unknown)
  std::string why;               // one line for the user: what was chosen and why
};

// MemAvailable from /proc/meminfo in bytes, 0 when it cannot be read.
uint64_t mem_available();

// The automatic choice for these model directories (loaded together, e.g. eval kld's two).
// `available` replaces /proc/meminfo's MemAvailable (tests).
ResidencyChoice auto_residency(const std::vector<std::string>& model_dirs,
                               std::optional<uint64_t> available = std::nullopt);

}  // namespace mixq
