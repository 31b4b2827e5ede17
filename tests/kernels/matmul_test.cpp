// Fast matmul kernels vs their scalar references on fresh random inputs of odd sizes, per format.
// Tolerance: both sides decode identical fp32 weights and differ only in fp32 summation order, so
// |fast - ref| <= 1e-5 * sum_k |x_k w_k| + 1e-6 (a summation-order bound with margin).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/matmul.h"
#include "kernels/cpu/matmul_int4_vnni.h"
#include "kernels/cpu/matmul_ref.h"
#include "util/dtype.h"
#include "hwy/targets.h"

namespace mixq::kernels {
namespace {

// Runs `body` once per ISA target compiled in and supported here (AVX2, AVX-512, ...), so the
// narrower paths (no 16-lane table lookup on AVX2) are tested on an AVX-512 machine too.
void for_each_target(const std::function<void()>& body) {
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(t);
    SCOPED_TRACE(hwy::TargetName(t));
    body();
  }
  hwy::SetSupportedTargetsForTest(0);
}

struct Case {
  int64_t M, N, K;
};
const Case kCases[] = {{1, 1, 1}, {1, 7, 33}, {3, 13, 64}, {5, 9, 96}, {1, 37, 256}, {7, 21, 160}, {33, 6, 128}, {2, 130, 384}};

std::vector<float> randn(size_t n, std::mt19937& g, float s = 1.f) {
  std::normal_distribution<float> d(0.f, s);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// abs-sum bound for each output
std::vector<float> abs_bound(const std::vector<float>& X, int64_t M, int64_t N, int64_t K,
                             const std::function<float(int64_t, int64_t)>& w) {
  std::vector<float> b(size_t(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += std::fabs(double(X[m * K + k]) * w(n, k));
      b[m * N + n] = float(s);
    }
  return b;
}

void expect_close(const std::vector<float>& fast, const std::vector<float>& ref, const std::vector<float>& bound,
                  const char* what) {
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(fast[i], ref[i], 1e-5f * bound[i] + 1e-6f) << what << " at " << i;
}

TEST(Matmul, F32AndBf16MatchReference) {
  for_each_target([&] {
  std::mt19937 g(1);
  for (auto c : kCases) {
    auto X = randn(size_t(c.M * c.K), g);
    auto Wf = randn(size_t(c.N * c.K), g, 0.05f);
    std::vector<uint16_t> Wb(Wf.size());
    for (size_t i = 0; i < Wf.size(); ++i) Wb[i] = f32_to_bf16(Wf[i]);
    std::vector<float> y(size_t(c.M * c.N), NAN), r(size_t(c.M * c.N), NAN);
    matmul_f32(Wf.data(), c.K, X.data(), c.M, c.K, y.data(), c.N, 0, c.N);
    matmul_f32_ref(Wf.data(), c.K, X.data(), c.M, c.K, r.data(), c.N, 0, c.N);
    expect_close(y, r, abs_bound(X, c.M, c.N, c.K, [&](int64_t n, int64_t k) { return Wf[n * c.K + k]; }), "f32");
    matmul_bf16(Wb.data(), c.K, X.data(), c.M, c.K, y.data(), c.N, 0, c.N);
    matmul_bf16_ref(Wb.data(), c.K, X.data(), c.M, c.K, r.data(), c.N, 0, c.N);
    expect_close(y, r, abs_bound(X, c.M, c.N, c.K, [&](int64_t n, int64_t k) { return bf16_to_f32(Wb[n * c.K + k]); }), "bf16");
  }
  });
}

TEST(Matmul, RowRangeWritesOnlyItsColumns) {
  std::mt19937 g(2);
  const int64_t M = 3, N = 19, K = 40;
  auto X = randn(M * K, g);
  auto W = randn(N * K, g);
  std::vector<uint16_t> Wb(W.size());
  for (size_t i = 0; i < W.size(); ++i) Wb[i] = f32_to_bf16(W[i]);
  std::vector<float> y(M * N, -7.f), r(M * N, -7.f);
  matmul_bf16(Wb.data(), K, X.data(), M, K, y.data(), N, 5, 14);
  matmul_bf16_ref(Wb.data(), K, X.data(), M, K, r.data(), N, 5, 14);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      if (n < 5 || n >= 14) EXPECT_EQ(y[m * N + n], -7.f);
      else EXPECT_NEAR(y[m * N + n], r[m * N + n], 1e-4f);
    }
}

// Each output row is one accumulator over k whatever tile or row range computes it (BF16 decode
// tiles of 16 rows, prefill tiles of 4, a thread's chunk of any size): splitting the rows differently (other
// thread counts) must give bitwise-identical results, at batch 1 and above.
TEST(Matmul, Bf16RowsAreIndependentOfTheRowSplit) {
  for_each_target([&] {
  std::mt19937 g(7);
  const int64_t N = 77;  // 4 decode tiles of 16 rows + a tail
  for (int64_t K : {320, 333})  // whole vectors only / a scalar tail per row
  for (int64_t M : {1, 3}) {
    auto X = randn(size_t(M * K), g);
    auto W = randn(size_t(N * K), g, 0.05f);
    std::vector<uint16_t> Wb(W.size());
    for (size_t i = 0; i < W.size(); ++i) Wb[i] = f32_to_bf16(W[i]);
    std::vector<float> whole(size_t(M * N)), split(size_t(M * N)), ref(size_t(M * N));
    matmul_bf16(Wb.data(), K, X.data(), M, K, whole.data(), N, 0, N);
    for (int64_t n0 = 0; n0 < N;) {  // ranges of 1, 2, 3, ... rows
      const int64_t n1 = std::min(N, n0 + 1 + n0 % 11);
      matmul_bf16(Wb.data(), K, X.data(), M, K, split.data(), N, n0, n1);
      n0 = n1;
    }
    for (size_t i = 0; i < whole.size(); ++i) ASSERT_EQ(whole[i], split[i]) << "M=" << M << " K=" << K << " at " << i;
    matmul_bf16_ref(Wb.data(), K, X.data(), M, K, ref.data(), N, 0, N);
    expect_close(whole, ref, abs_bound(X, M, N, K, [&](int64_t n, int64_t k) { return bf16_to_f32(Wb[n * K + k]); }), "bf16");
  }
  });
}

TEST(Matmul, Fp8BlockMatchesReference) {
  for_each_target([&] {
  std::mt19937 g(3);
  std::uniform_int_distribution<int> byte(0, 255);
  const Case cases[] = {{1, 5, 128}, {3, 130, 256}, {5, 17, 200}, {1, 129, 130}, {9, 3, 384}};
  for (int64_t bk : {128, 64, 48}) {
    for (auto c : cases) {
      std::vector<uint8_t> w(size_t(c.N * c.K));
      for (auto& b : w) {
        b = uint8_t(byte(g));
        if ((b & 0x7F) == 0x7F) b &= 0xFE;  // no NaN codes
      }
      Fp8BlockMatrix W{w.data(), nullptr, c.N, c.K, 128, bk};
      auto scale = randn(size_t(((c.N + 127) / 128) * W.scale_cols()), g, 0.01f);
      W.scale = scale.data();
      auto X = randn(size_t(c.M * c.K), g);
      std::vector<float> y(size_t(c.M * c.N)), r(size_t(c.M * c.N));
      matmul_fp8_block(W, X.data(), c.M, c.K, y.data(), c.N, 0, c.N);
      matmul_fp8_block_ref(W, X.data(), c.M, c.K, r.data(), c.N, 0, c.N);
      expect_close(y, r, abs_bound(X, c.M, c.N, c.K, [&](int64_t n, int64_t k) { return fp8_block_weight(W, n, k); }), "fp8");
    }
  }
  });
}

// Decode reads a thread's rows as far-apart parts side by side (matmul.cpp Fp8DecodeStreams):
// every row's sum must be the same whatever range it is computed in, and close to the reference.
TEST(Matmul, Fp8RowsAreIndependentOfTheRowSplit) {
  for_each_target([&] {
  std::mt19937 g(11);
  std::uniform_int_distribution<int> byte(0, 255);
  const int64_t N = 203;  // 2 row blocks of 128, parts of 33 rows and a few left over
  for (int64_t K : {384, 200}) {  // whole chunks only / a partial last block and a scalar tail
    std::vector<uint8_t> w(size_t(N * K));
    for (auto& b : w) {
      b = uint8_t(byte(g));
      if ((b & 0x7F) == 0x7F) b &= 0xFE;
    }
    Fp8BlockMatrix W{w.data(), nullptr, N, K, 128, 128};
    auto scale = randn(size_t(((N + 127) / 128) * W.scale_cols()), g, 0.01f);
    W.scale = scale.data();
    auto X = randn(size_t(K), g);
    std::vector<float> whole(static_cast<size_t>(N)), split(static_cast<size_t>(N)), ref(static_cast<size_t>(N));
    matmul_fp8_block(W, X.data(), 1, K, whole.data(), N, 0, N);
    for (int64_t n0 = 0; n0 < N;) {  // ranges of 1 .. 13 rows
      const int64_t n1 = std::min(N, n0 + 1 + n0 % 13);
      matmul_fp8_block(W, X.data(), 1, K, split.data(), N, n0, n1);
      n0 = n1;
    }
    for (int64_t i = 0; i < N; ++i) ASSERT_EQ(whole[size_t(i)], split[size_t(i)]) << "K=" << K << " row " << i;
    matmul_fp8_block_ref(W, X.data(), 1, K, ref.data(), N, 0, N);
    expect_close(whole, ref, abs_bound(X, 1, N, K, [&](int64_t n, int64_t k) { return fp8_block_weight(W, n, k); }), "fp8");
  }
  });
}

TEST(Matmul, Fp8DecodeIsExactForEveryCode) {
  for_each_target([&] {
  // One row of all 254 finite codes against one-hot activations: the fast kernel must return
  // exactly fp8(code) * scale for each.
  std::vector<uint8_t> w;
  for (int c = 0; c < 256; ++c)
    if ((c & 0x7F) != 0x7F) w.push_back(uint8_t(c));
  w.resize(256, 0);
  const float scale = 0.375f;
  Fp8BlockMatrix W{w.data(), &scale, 1, 256, 128, 256};
  for (int k = 0; k < 256; ++k) {
    std::vector<float> x(256, 0.f);
    x[size_t(k)] = 1.f;
    float y = 0;
    matmul_fp8_block(W, x.data(), 1, 256, &y, 1, 0, 1);
    ASSERT_EQ(y, kFp8E4M3ToF32[w[size_t(k)]] * scale) << "code " << int(w[size_t(k)]);
  }
  });
}

std::vector<uint32_t> random_packed(int64_t N, int64_t K, std::mt19937& g) {
  std::uniform_int_distribution<uint32_t> word;
  std::vector<uint32_t> p(size_t(N * ((K + 7) / 8)));
  for (auto& w : p) w = word(g);
  return p;
}

TEST(Matmul, Int4MatchesReferenceBf16AndF32Scales) {
  for_each_target([&] {
  std::mt19937 g(4);
  // K multiples of 128 take the word-native kernel (K % 8L == 0), the others the even/odd one;
  // G = 128 puts a whole 8L chunk inside one group, G = 32/64 several groups per chunk.
  const Case cases[] = {{1, 1, 32}, {1, 7, 96}, {3, 13, 64}, {5, 9, 320}, {1, 37, 3072 / 8}, {6, 130, 256},
                        {33, 5, 128}, {1, 8, 3072}, {3, 11, 1536}, {37, 6, 256}};
  for (int64_t G : {32, 64, 16, 128}) {
    for (auto c : cases) {
      if (c.K % G) continue;
      auto packed = random_packed(c.N, c.K, g);
      auto sf = randn(size_t(c.N * (c.K / G)), g, 0.02f);
      std::vector<uint16_t> sb(sf.size());
      for (size_t i = 0; i < sf.size(); ++i) sb[i] = f32_to_bf16(sf[i]);
      auto X = randn(size_t(c.M * c.K), g);
      for (ScaleType st : {ScaleType::BF16, ScaleType::F32}) {
        Int4Matrix W{packed.data(), st == ScaleType::BF16 ? (const void*)sb.data() : (const void*)sf.data(), st, c.N, c.K, G};
        std::vector<float> y(size_t(c.M * c.N)), r(size_t(c.M * c.N));
        matmul_int4_ref(W, X.data(), c.M, c.K, r.data(), c.N, 0, c.N);
        const auto bound = abs_bound(X, c.M, c.N, c.K, [&](int64_t n, int64_t k) { return int4_weight(W, n, k); });
        // The exact fp32-activation kernel, and matmul_int4 as dispatched (on AVX-512 VNNI the
        // split-activation kernel: its error bound, max_g|x| * 2^-23 per activation, is far inside
        // this tolerance; its own tests are in matmul_int4_vnni_test.cpp).
        matmul_int4_exact(W, X.data(), c.M, c.K, y.data(), c.N, 0, c.N);
        expect_close(y, r, bound, "int4 exact");
        matmul_int4(W, X.data(), c.M, c.K, y.data(), c.N, 0, c.N);
        expect_close(y, r, bound, "int4");
      }
    }
  }
  });
}

TEST(Matmul, Int4BitOrderMatchesSpecExample) {
  for_each_target([&] {
  // compressed-tensors-awq.md §2.2: q = [1,-2,3,0,-8,7,5,-1] packs to 0x7DF08B69.
  std::vector<uint32_t> packed(4, 0x88888888u);  // K = 32: one group, rest zeros (u = 8)
  packed[0] = 0x7DF08B69u;
  const float scale = 0.5f;
  Int4Matrix W{packed.data(), &scale, ScaleType::F32, 1, 32, 32};
  const int q[8] = {1, -2, 3, 0, -8, 7, 5, -1};
  for (int k = 0; k < 8; ++k) {
    std::vector<float> x(32, 0.f);
    x[size_t(k)] = 1.f;
    float y = 0;
    matmul_int4(W, x.data(), 1, 32, &y, 1, 0, 1);
    EXPECT_EQ(y, float(q[k]) * 0.5f) << k;
    EXPECT_EQ(int4_weight(W, 0, k), float(q[k]) * 0.5f);
  }
  });
}

TEST(Matmul, ParallelRowsCoversEveryRowOnce) {
  for (int64_t n : {1, 3, 4, 5, 63, 1000}) {
    std::vector<int> hits(size_t(n), 0);
    parallel_rows(n, 8, [&](int64_t b, int64_t e) {
      EXPECT_EQ(b % 4, 0);
      for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
    });
    for (int h : hits) EXPECT_EQ(h, 1);
  }
}

}  // namespace
}  // namespace mixq::kernels
