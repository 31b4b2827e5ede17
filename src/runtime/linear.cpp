#include "runtime/linear.h"

#include <algorithm>

#include "kernels/cpu/matmul_int4_rows16.h"
#include "runtime/workspace.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace mixq {

Linear::Linear(const LinearWeight& w) : module_(w.module), format_(w.format), out_(w.out), in_(w.in), bytes_(w.bytes()) {
  switch (w.format) {
    case WeightFormat::Dense:
      dense_type_ = w.weight.dtype;
      dense_ = w.weight.data;
      if (dense_type_ == DType::F16) {
        owned_ = w.weight.to_f32();
        dense_type_ = DType::F32;
        dense_ = owned_.data();
      }
      break;
    case WeightFormat::Fp8Block:
      owned_ = w.scale.to_f32();
      fp8_ = {w.weight.data, owned_.data(), w.out, w.in, w.block_n, w.block_k};
      break;
    case WeightFormat::PackedInt4: {
      const void* scale = w.scale.data;
      kernels::ScaleType st = kernels::ScaleType::BF16;
      if (w.scale.dtype == DType::F32) {
        st = kernels::ScaleType::F32;
      } else if (w.scale.dtype != DType::BF16) {
        owned_ = w.scale.to_f32();
        scale = owned_.data();
        st = kernels::ScaleType::F32;
      }
      int4_ = {reinterpret_cast<const uint32_t*>(w.packed.data), scale, st, w.out, w.in, w.group_size};
      break;
    }
  }
}

void Linear::rows(const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0, int64_t n1) const {
  switch (format_) {
    case WeightFormat::Dense:
      if (dense_type_ == DType::BF16)
        kernels::matmul_bf16(static_cast<const uint16_t*>(dense_), in_, X, M, ldx, Y, ldy, n0, n1);
      else
        kernels::matmul_f32(static_cast<const float*>(dense_), in_, X, M, ldx, Y, ldy, n0, n1);
      break;
    case WeightFormat::Fp8Block: kernels::matmul_fp8_block(fp8_, X, M, ldx, Y, ldy, n0, n1); break;
    case WeightFormat::PackedInt4: kernels::matmul_int4(int4_, X, M, ldx, Y, ldy, n0, n1); break;
  }
}

bool Linear::splits_activations(int64_t M) const {
  return format_ == WeightFormat::PackedInt4 && kernels::use_int4_vnni(int4_, M);
}

void Linear::rows(const kernels::Int4VnniActivations& a, float* Y, int64_t ldy, int64_t n0, int64_t n1) const {
  MIXQ_ASSERT(splits_activations(a.rows()) && a.cols() == in_);
  kernels::matmul_int4_vnni_prepared(int4_, a, Y, ldy, n0, n1);
}

bool Linear::interleave_in_place(Checkpoint& ck) {
  if (format_ != WeightFormat::PackedInt4 || !kernels::int4_rows16_ok(int4_)) return false;
  const auto& W = int4_;
  const size_t scale_bytes = size_t(W.N * W.groups_per_row()) * (W.scale_type == kernels::ScaleType::F32 ? 4 : 2);
  uint8_t* packed = ck.writable(W.packed, size_t(W.N * W.words_per_row()) * 4);
  // scales converted at load (F16) live in owned_, already writable
  uint8_t* scale = owned_.empty() ? ck.writable(W.scale, scale_bytes) : reinterpret_cast<uint8_t*>(owned_.data());
  if (!packed || !scale) return false;
  kernels::interleave_int4_rows16(reinterpret_cast<uint32_t*>(packed), scale, W.scale_type, W.N, W.K, W.group);
  int4_.rows16 = true;
  return true;
}

void Linear::forward(const float* X, int64_t M, float* Y) const {
  // A small matrix (the router: 32 x 3072 bf16 = 192 KiB) is a few microseconds of streaming:
  // run it on the calling thread rather than pay a pool dispatch.
  if (uint64_t(M) * bytes_ < (uint64_t(256) << 10)) return rows(X, M, in_, Y, out_, 0, out_);
  // The pool hands out guided chunks (large first, then smaller), so the grain only sets the
  // smallest chunk: >= 32 rows keeps per-call overhead (activation permutation) small.
  const int64_t threads = int64_t(ThreadPool::global().size());
  const int64_t grain = std::max<int64_t>(32, out_ / (threads * 32));
  if (splits_activations(M)) {  // split the activations once, not once per row chunk
    Lease<kernels::Int4VnniActivations> a;
    a->prepare(X, M, in_, in_);
    kernels::parallel_rows(out_, grain, [&](int64_t b, int64_t e) { rows(*a, Y, out_, b, e); });
    return;
  }
  kernels::parallel_rows(out_, grain, [&](int64_t b, int64_t e) { rows(X, M, in_, Y, out_, b, e); });
}

}  // namespace mixq
