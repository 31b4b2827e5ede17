// Human byte sizes on the command line ("--max-shard-size 4MiB").
#pragma once
#include <cstdint>
#include <string>

namespace mixq {

// "4194304", "4MiB", "5GB", "512K", "1.5GiB" -> bytes. Decimal units (KB/MB/GB/TB = 10^3n, as
// transformers' max_shard_size) and binary ones (KiB/MiB/GiB/TiB; K/M/G/T alone are binary).
// InputError naming `what` when the text is not a positive size.
uint64_t parse_byte_size(const std::string& text, const std::string& what);

}  // namespace mixq
