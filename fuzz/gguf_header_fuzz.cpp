// libFuzzer target over the GGUF reader (io/gguf_reader.h): any byte string must either parse or
// raise InputError, never crash, hang, allocate without bound or read out of bounds (ASan/UBSan on).
// fuzz-sources: src/io/gguf_reader.cpp src/io/gguf_format.cpp src/io/gguf_value.cpp src/io/mapped_file.cpp src/util/error.cpp src/util/huge_page_buffer.cpp
#include <cstddef>
#include <cstdint>

#include "io/gguf_reader.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    mixq::gguf::File g(data, size, "fuzz");
    for (const auto& t : g.tensors())
      if (g.data_start() + t.offset + t.nbytes > size) __builtin_trap();  // a parse that accepted bad offsets
    for (const auto& [k, v] : g.metadata()) (void)v.summary();
  } catch (const mixq::InputError&) {
  }
  return 0;
}
