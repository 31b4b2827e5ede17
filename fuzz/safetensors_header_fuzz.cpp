// libFuzzer target over the safetensors header parser: any byte string must either parse or raise
// InputError, never crash, hang or read out of bounds (ASan/UBSan are on).
// fuzz-sources: src/io/safetensors_reader.cpp src/io/mapped_file.cpp src/io/tensor_view.cpp src/util/dtype.cpp src/util/error.cpp src/util/huge_page_buffer.cpp
#include <cstddef>
#include <cstdint>

#include "io/safetensors_reader.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto h = mixq::parse_safetensors_header(data, size, "fuzz");
    for (const auto& t : h.tensors)
      if (h.data_start + t.end > size) __builtin_trap();  // a parse that accepted bad offsets
  } catch (const mixq::InputError&) {
  }
  return 0;
}
