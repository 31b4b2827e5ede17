// Opens a region compiled for AVX-512 (F/BW/VL/DQ) + VNNI with raw intrinsics: Highway 1.0.3 (the
// Debian version) has no VNNI op. Close it with avx512_vnni_end.h. Code in the region runs only
// after int4_vnni_cpu() (matmul_int4_vnni.h) said the instructions exist.
// No include guard: each pair of includes opens and closes one region.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
// GCC 12's own intrinsic helpers (_mm512_undefined operands, e.g. in _mm512_reduce_*) trip
// maybe-uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
