// Per-sequence KV cache: for every layer, K (after QK-norm and RoPE) and V (raw) of each position,
// nkv heads x head_dim values, stored BF16 by default (FP8 e4m3 or fp32 optional). Head-major:
// [head][position][head_dim], so attention reads each head's context as one contiguous stream
// (position-major, a head's 256 bytes every 2 KB defeated the hardware prefetchers and decode
// attention ran at ~6 GB/s once the weights had pushed the cache out of L2).
// Memory: layers * capacity * 2 * nkv * head_dim * sizeof(type); MiniMax-M2 in BF16 = 248 KiB per
// token (minimax-m2.md §4). The capacity is fixed at construction (from a token count or a byte
// budget), allocated and touched up front, so running out is a clear error, never a reallocation
// or a page fault mid-decode.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/attention.h"
#include "model/minimax_m2_config.h"
#include "util/huge_page_buffer.h"

namespace mixq {

// Where one sequence's K/V live, as the forward pass sees them: a contiguous KvCache, or that
// sequence's blocks in the shared KvPool (runtime/kv_pool.h).
class KvSeq {
 public:
  virtual ~KvSeq() = default;
  // Writes T positions [pos0, pos0 + T) of one layer; rows are nkv*d fp32 values, ld apart.
  virtual void store(int layer, int64_t pos0, int64_t T, const float* k, int64_t ldk, const float* v, int64_t ldv) = 0;
  virtual kernels::KvRows rows(int layer) const = 0;
};

class KvCache : public KvSeq {
 public:
  KvCache(const MiniMaxM2Config& cfg, int64_t capacity, kernels::KvType type = kernels::KvType::BF16);

  static uint64_t bytes_per_token(const MiniMaxM2Config& cfg, kernels::KvType type);
  // Tokens that fit in `budget_bytes` (capped at max_position_embeddings); InputError if < 1.
  static int64_t capacity_for_budget(const MiniMaxM2Config& cfg, kernels::KvType type, uint64_t budget_bytes);

  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }  // positions filled (the next position to write)
  kernels::KvType type() const { return type_; }
  uint64_t bytes() const;

  // Writes T positions [pos0, pos0 + T) of one layer; rows are nkv*d fp32 values, ld apart.
  void store(int layer, int64_t pos0, int64_t T, const float* k, int64_t ldk, const float* v, int64_t ldv) override;
  kernels::KvRows rows(int layer) const override;
  void set_length(int64_t n);  // after a forward pass wrote positions [length, n) in every layer
  void clear() { length_ = 0; }

 private:
  uint8_t* k(int layer) const;
  uint8_t* v(int layer) const;

  int64_t layers_, width_, heads_, d_, capacity_, length_ = 0;
  kernels::KvType type_;
  // All layers' K and V, each per_ bytes, in one buffer advised as 2 MB pages: a long context's
  // stream of 4 KB pages cost a page walk per page (docs/perf-engine.md).
  size_t per_ = 0;
  HugePageBuffer buf_;
};

kernels::KvType parse_kv_type(const std::string& s);  // "bf16" | "fp8" | "f32"; InputError otherwise

}  // namespace mixq
