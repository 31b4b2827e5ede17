// A Linear layer ready for the kernels: wraps a LinearWeight (whatever its storage) and runs
// Y = X W^T through the matching kernels/cpu matmul. Weight bytes stay in the checkpoint mmap;
// only small side tables are owned here (FP8 block scales as fp32: 1/16384 of the weights; F16
// tensors, which no kernel reads directly, converted once to fp32).
#pragma once
#include <cstdint>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/matmul_int4_vnni.h"
#include "model/linear_weight.h"

namespace mixq {

class Linear {
 public:
  Linear() = default;
  explicit Linear(const LinearWeight& w);

  int64_t out() const { return out_; }
  int64_t in() const { return in_; }
  WeightFormat format() const { return format_; }
  uint64_t bytes() const { return bytes_; }  // bytes a full pass over the weight reads
  const std::string& module() const { return module_; }

  // Output columns [n0, n1) for M rows of X (row stride ldx) into Y (row stride ldy); no threads.
  void rows(const float* X, int64_t M, int64_t ldx, float* Y, int64_t ldy, int64_t n0, int64_t n1) const;
  // Y[M, out] = X[M, in] W^T over the thread pool.
  void forward(const float* X, int64_t M, float* Y) const;

  // True when rows() would run the split-activation INT4 kernel for M rows: the caller may then
  // prepare the activations once (kernels::Int4VnniActivations) for several calls, as forward()
  // does for its row chunks (about 1 us per call saved at in = 3072).
  bool splits_activations(int64_t M) const;
  // rows() on activations the caller prepared (precondition: splits_activations(a.rows()),
  // a.cols() == in()); the results are bit-identical to rows() on the same X.
  void rows(const kernels::Int4VnniActivations& a, float* Y, int64_t ldy, int64_t n0, int64_t n1) const;

  // Weights read into RAM (Residency::Ram): an INT4 weight is rewritten in place, through
  // ck.writable(), into the row-interleaved layout of kernels/cpu/matmul_int4_rows16.h when this
  // CPU and its shape allow; its outputs stay within the same stated bound. Other formats, mapped
  // weights and refused shapes are left as they are. True when it interleaved.
  bool interleave_in_place(Checkpoint& ck);
  bool int4_rows16() const { return int4_.rows16; }

 private:
  std::string module_;
  WeightFormat format_ = WeightFormat::Dense;
  int64_t out_ = 0, in_ = 0;
  uint64_t bytes_ = 0;
  DType dense_type_ = DType::F32;
  const void* dense_ = nullptr;
  kernels::Fp8BlockMatrix fp8_;
  kernels::Int4Matrix int4_;
  std::vector<float> owned_;  // converted F16 weights, FP8 scales or F16 INT4 scales
};

}  // namespace mixq
