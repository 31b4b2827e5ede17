#include "runtime/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace mixq {

KvCache::KvCache(const MiniMaxM2Config& cfg, int64_t capacity, kernels::KvType type)
    : layers_(cfg.num_hidden_layers),
      width_(cfg.kv_width()),
      heads_(cfg.num_key_value_heads),
      d_(cfg.head_dim),
      capacity_(capacity),
      type_(type) {
  if (capacity < 1) fail("KV cache: capacity must be at least 1 token, got {}", capacity);
  per_ = size_t(capacity * width_ * kernels::kv_type_size(type));
  buf_ = HugePageBuffer(per_ * size_t(2 * layers_));
  // Touched now, not as positions are written: a page fault in decode costs tens of microseconds
  // in a VM (1.6 faults per decoded token made the attention phase 60 % slower).
  std::memset(buf_.data(), 0, buf_.size());
}

uint8_t* KvCache::k(int layer) const { return buf_.data() + size_t(2 * layer) * per_; }
uint8_t* KvCache::v(int layer) const { return buf_.data() + size_t(2 * layer + 1) * per_; }

uint64_t KvCache::bytes_per_token(const MiniMaxM2Config& cfg, kernels::KvType type) {
  return uint64_t(cfg.num_hidden_layers) * 2 * uint64_t(cfg.kv_width()) * uint64_t(kernels::kv_type_size(type));
}

int64_t KvCache::capacity_for_budget(const MiniMaxM2Config& cfg, kernels::KvType type, uint64_t budget) {
  const uint64_t per = bytes_per_token(cfg, type);
  const int64_t n = std::min<int64_t>(int64_t(budget / per), cfg.max_position_embeddings);
  if (n < 1) fail("KV cache: a budget of {} bytes holds no token ({} bytes per token)", budget, per);
  return n;
}

uint64_t KvCache::bytes() const { return uint64_t(capacity_ * layers_ * 2 * width_ * kernels::kv_type_size(type_)); }

void KvCache::store(int layer, int64_t pos0, int64_t T, const float* k, int64_t ldk, const float* v, int64_t ldv) {
  if (pos0 + T > capacity_)
    fail("KV cache full: {} positions needed, capacity {} (raise --ctx / the KV budget)", pos0 + T, capacity_);
  const int es = kernels::kv_type_size(type_);
  for (int64_t h = 0; h < heads_; ++h) {
    // Head-major: head h's positions are contiguous, d values each (see rows()).
    const size_t at = size_t((h * capacity_ + pos0) * d_ * es);
    for (int64_t t = 0; t < T; ++t) {
      kernels::kv_store(type_, k + t * ldk + h * d_, this->k(layer) + at + size_t(t * d_ * es), d_);
      kernels::kv_store(type_, v + t * ldv + h * d_, this->v(layer) + at + size_t(t * d_ * es), d_);
    }
  }
}

kernels::KvRows KvCache::rows(int layer) const {
  return {k(layer), v(layer), type_, d_, capacity_ * d_};
}

void KvCache::set_length(int64_t n) {
  MIXQ_ASSERT(n >= 0 && n <= capacity_);
  length_ = n;
}

kernels::KvType parse_kv_type(const std::string& s) {
  if (s == "bf16") return kernels::KvType::BF16;
  if (s == "fp8" || s == "fp8_e4m3") return kernels::KvType::FP8;
  if (s == "f32" || s == "fp32") return kernels::KvType::F32;
  fail("unknown KV cache type '{}' (expected bf16, fp8 or f32)", s);
}

}  // namespace mixq
