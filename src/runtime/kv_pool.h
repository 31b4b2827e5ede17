// The server's KV cache: one pool of fixed-size blocks shared by every running sequence (vLLM's
// paged KV). A block holds block_size positions of every layer's K and V; a sequence owns a list
// of blocks (its block table), so memory is handed out as sequences grow and returned when they
// end, and nothing is reserved for a context a request never reaches.
// Layout per layer, for K and for V: [block][kv head][row][head_dim]: inside a block each head's
// rows are contiguous (the head-major order the attention kernel streams, kernels/cpu/attention.h
// KvRows::block_table).
// Prefix caching (vLLM's automatic prefix caching): a full block is identified by the hash of its
// tokens chained with its parent's hash. A finished sequence's full blocks stay in the pool with
// no owner, on an LRU list; a new request whose prompt starts with the same blocks takes them
// instead of recomputing them. An unowned cached block is reused (evicted) only when no free
// block is left.
// Memory: num_blocks * bytes_per_block(), allocated and touched at construction; the bookkeeping
// is O(num_blocks).
#pragma once
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

#include "runtime/kv_cache.h"

namespace mixq {

class KvPool {
 public:
  KvPool(const MiniMaxM2Config& cfg, int64_t num_blocks, int64_t block_size, kernels::KvType type);

  static uint64_t bytes_per_block(const MiniMaxM2Config& cfg, int64_t block_size, kernels::KvType type);
  // Blocks that fit in budget_bytes; InputError when fewer than one.
  static int64_t blocks_for_budget(const MiniMaxM2Config& cfg, int64_t block_size, kernels::KvType type,
                                   uint64_t budget_bytes);

  int64_t block_size() const { return block_size_; }
  int64_t num_blocks() const { return num_blocks_; }
  kernels::KvType type() const { return type_; }
  uint64_t bytes() const { return buf_.size(); }
  int64_t blocks_in_use() const { return in_use_; }     // owned by at least one sequence
  int64_t blocks_available() const { return num_blocks_ - in_use_; }  // free + evictable cached
  int64_t cached_blocks() const { return int64_t(by_hash_.size()); }

  // A block for a sequence to write (refcount 1): a free one, else the least recently used
  // unowned cached block (its hash forgotten). None when every block is owned.
  std::optional<int32_t> allocate();
  // The sequence no longer uses `b`. An unowned block with a hash stays cached (evictable).
  void release(int32_t b);

  // The hash of a full block of tokens following a block with hash `parent` (0 for the first).
  static uint64_t chain_hash(uint64_t parent, const int32_t* tokens, int64_t n);
  // A cached block holding exactly these tokens after `parent`: taken (refcount + 1). None on miss.
  std::optional<int32_t> lookup(uint64_t hash, uint64_t parent, const int32_t* tokens);
  // Marks a block that a sequence just filled completely as reusable under `hash`. A block with
  // the same hash already cached wins (this one stays uncached).
  void publish(int32_t b, uint64_t hash, uint64_t parent, const int32_t* tokens);

  void store(int layer, const int32_t* table, int64_t pos0, int64_t T, const float* k, int64_t ldk, const float* v,
             int64_t ldv);
  kernels::KvRows rows(int layer, const int32_t* table) const;

 private:
  uint8_t* k(int layer) const { return buf_.data() + size_t(2 * layer) * per_layer_; }
  uint8_t* v(int layer) const { return buf_.data() + size_t(2 * layer + 1) * per_layer_; }

  struct Meta {
    int32_t refs = 0;
    bool cached = false;
    uint64_t hash = 0, parent = 0;
    std::vector<int32_t> tokens;            // a cached block's tokens, compared on lookup
    std::list<int32_t>::iterator lru;       // valid while cached and unowned
  };
  int64_t layers_, heads_, d_, num_blocks_, block_size_;
  kernels::KvType type_;
  size_t per_layer_ = 0;  // bytes of one layer's K (or V) over all blocks
  HugePageBuffer buf_;
  std::vector<Meta> meta_;
  std::vector<int32_t> free_;                  // never cached or forgotten
  std::list<int32_t> evictable_;               // cached, unowned: front = least recently used
  std::unordered_map<uint64_t, int32_t> by_hash_;
  int64_t in_use_ = 0;
};

// One sequence's view of the pool: its block table, as the forward pass writes and reads it.
class PagedKvSeq : public KvSeq {
 public:
  PagedKvSeq(KvPool& pool, const std::vector<int32_t>& table) : pool_(pool), table_(table) {}
  void store(int layer, int64_t pos0, int64_t T, const float* k, int64_t ldk, const float* v, int64_t ldv) override {
    pool_.store(layer, table_.data(), pos0, T, k, ldk, v, ldv);
  }
  kernels::KvRows rows(int layer) const override { return pool_.rows(layer, table_.data()); }

 private:
  KvPool& pool_;
  const std::vector<int32_t>& table_;
};

}  // namespace mixq
