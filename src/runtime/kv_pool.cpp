#include "runtime/kv_pool.h"

#include <cstring>

#include "util/error.h"

namespace mixq {

KvPool::KvPool(const MiniMaxM2Config& cfg, int64_t num_blocks, int64_t block_size, kernels::KvType type)
    : layers_(cfg.num_hidden_layers),
      heads_(cfg.num_key_value_heads),
      d_(cfg.head_dim),
      num_blocks_(num_blocks),
      block_size_(block_size),
      type_(type) {
  if (block_size < 1 || block_size % kernels::kAttentionPosBlock != 0)
    fail("KV block size must be a positive multiple of {}, got {}", kernels::kAttentionPosBlock, block_size);
  if (num_blocks < 1 || num_blocks > (int64_t(1) << 30)) fail("KV pool: {} blocks is out of range", num_blocks);
  per_layer_ = size_t(num_blocks) * size_t(heads_ * block_size * d_) * size_t(kernels::kv_type_size(type));
  buf_ = HugePageBuffer(per_layer_ * size_t(2 * layers_));
  // Touched up front (see KvCache): a page fault mid-decode costs tens of microseconds in a VM.
  std::memset(buf_.data(), 0, buf_.size());
  meta_.resize(size_t(num_blocks));
  free_.reserve(size_t(num_blocks));
  for (int64_t b = num_blocks - 1; b >= 0; --b) free_.push_back(int32_t(b));  // block 0 handed out first
}

uint64_t KvPool::bytes_per_block(const MiniMaxM2Config& cfg, int64_t block_size, kernels::KvType type) {
  return uint64_t(block_size) * KvCache::bytes_per_token(cfg, type);
}

int64_t KvPool::blocks_for_budget(const MiniMaxM2Config& cfg, int64_t block_size, kernels::KvType type,
                                  uint64_t budget) {
  const uint64_t per = bytes_per_block(cfg, block_size, type);
  const int64_t n = int64_t(budget / per);
  if (n < 1) fail("KV cache: a budget of {} bytes holds no block of {} positions ({} bytes)", budget, block_size, per);
  return n;
}

std::optional<int32_t> KvPool::allocate() {
  int32_t b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!evictable_.empty()) {
    b = evictable_.front();
    evictable_.pop_front();
    Meta& m = meta_[size_t(b)];
    by_hash_.erase(m.hash);
    m.cached = false;
    m.tokens.clear();
  } else {
    return std::nullopt;
  }
  meta_[size_t(b)].refs = 1;
  ++in_use_;
  return b;
}

void KvPool::release(int32_t b) {
  Meta& m = meta_[size_t(b)];
  MIXQ_ASSERT(m.refs > 0);
  if (--m.refs > 0) return;
  --in_use_;
  if (m.cached) m.lru = evictable_.insert(evictable_.end(), b);
  else free_.push_back(b);
}

uint64_t KvPool::chain_hash(uint64_t parent, const int32_t* tokens, int64_t n) {
  // FNV-1a over the parent hash and the token ids, then a splitmix finalizer. A hit is also
  // checked against the stored tokens and parent (lookup), so a collision cannot serve wrong KV.
  uint64_t h = 1469598103934665603ull ^ parent;
  auto mix = [&](uint64_t x) {
    for (int i = 0; i < 8; ++i) {
      h ^= (x >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  mix(parent);
  for (int64_t i = 0; i < n; ++i) mix(uint64_t(uint32_t(tokens[i])));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h == 0 ? 1 : h;
}

std::optional<int32_t> KvPool::lookup(uint64_t hash, uint64_t parent, const int32_t* tokens) {
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  Meta& m = meta_[size_t(it->second)];
  if (m.parent != parent || std::memcmp(m.tokens.data(), tokens, size_t(block_size_) * 4) != 0) return std::nullopt;
  if (m.refs++ == 0) {
    evictable_.erase(m.lru);
    ++in_use_;
  }
  return it->second;
}

void KvPool::publish(int32_t b, uint64_t hash, uint64_t parent, const int32_t* tokens) {
  Meta& m = meta_[size_t(b)];
  if (m.cached || by_hash_.count(hash)) return;
  m.cached = true;
  m.hash = hash;
  m.parent = parent;
  m.tokens.assign(tokens, tokens + block_size_);
  by_hash_[hash] = b;
}

void KvPool::store(int layer, const int32_t* table, int64_t pos0, int64_t T, const float* k, int64_t ldk,
                   const float* v, int64_t ldv) {
  const int64_t es = kernels::kv_type_size(type_), B = block_size_;
  uint8_t* kb = this->k(layer);
  uint8_t* vb = this->v(layer);
  for (int64_t t = 0; t < T; ++t) {
    const int64_t p = pos0 + t, blk = table[p / B], row = p % B;
    for (int64_t h = 0; h < heads_; ++h) {
      const size_t at = size_t(((blk * heads_ + h) * B + row) * d_ * es);
      kernels::kv_store(type_, k + t * ldk + h * d_, kb + at, d_);
      kernels::kv_store(type_, v + t * ldv + h * d_, vb + at, d_);
    }
  }
}

kernels::KvRows KvPool::rows(int layer, const int32_t* table) const {
  kernels::KvRows r{k(layer), v(layer), type_, d_, block_size_ * d_};
  r.block_table = table;
  r.block_size = block_size_;
  r.block_stride = heads_ * block_size_ * d_;
  return r;
}

}  // namespace mixq
