// Causal multi-head attention of new query rows over a KV cache (GQA: query head h reads KV head
// h / (nh / nkv)). The cache holds nkv heads of d values per position for K and for V, in fp32,
// BF16 or FP8 e4m3 (scale 1, saturating; see docs/engine.md), laid out as KvRows says.
// Query row t sits at absolute position pos0 + t and attends positions [0, pos0 + t].
// Scores, softmax and the weighted sum of V are fp32. Work items are (t, h) pairs flattened as
// t * nh + h; the caller splits [0, T * nh) over threads.
#pragma once
#include <cstdint>

namespace mixq::kernels {

enum class KvType : uint8_t { F32, BF16, FP8 };
const char* kv_type_name(KvType t);  // "f32", "bf16", "fp8"
int kv_type_size(KvType t);

// Element i of KV head h at position j is at h * head_stride + j * stride + i (of K or of V).
// Position-major (heads packed within a position): stride = nkv * d, head_stride = 0 (meaning d).
// Head-major (the KvCache layout): stride = d, head_stride = capacity * d, so each head's
// positions are one contiguous run that the hardware prefetchers stream.
struct KvRows {
  const void* k = nullptr;
  const void* v = nullptr;
  KvType type = KvType::F32;
  int64_t stride = 0;       // elements from one position to the next
  int64_t head_stride = 0;  // elements from one KV head to the next; 0 = d
  // Paged (runtime/kv_pool.h): when block_table is set, position j is row j % block_size of pool
  // block block_table[j / block_size], which starts block_table[..] * block_stride elements after
  // k (and v); stride and head_stride then apply within a block. block_size is a multiple of
  // kAttentionPosBlock, so the kernel's position blocks never straddle two pool blocks.
  const int32_t* block_table = nullptr;
  int64_t block_size = 0, block_stride = 0;
  int64_t head_offset(int64_t h, int64_t d) const { return h * (head_stride ? head_stride : d); }
  // Element offset of value i of KV head h at position j (from k or v), paged or not.
  int64_t element(int64_t j, int64_t h, int64_t d, int64_t i) const {
    if (!block_table) return j * stride + head_offset(h, d) + i;
    return block_table[j / block_size] * block_stride + (j % block_size) * stride + head_offset(h, d) + i;
  }
};
// The kernel's position block: a paged cache's block_size must be a multiple of it.
constexpr int64_t kAttentionPosBlock = 32;

struct AttentionShape {
  int64_t nh = 0, nkv = 0, d = 0;
  float scale = 1.f;
};

void attention(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out,
               int64_t ldo, int64_t item0, int64_t item1);
void attention_ref(const float* q, int64_t ldq, const AttentionShape& s, int64_t pos0, const KvRows& kv, float* out,
                   int64_t ldo, int64_t item0, int64_t item1);

// Stores n fp32 values in the cache element type (bf16: round to nearest even; fp8: c10 rules
// after clamping to +-448).
void kv_store(KvType t, const float* src, void* dst, int64_t n);
float kv_load(KvType t, const void* base, int64_t i);

}  // namespace mixq::kernels
