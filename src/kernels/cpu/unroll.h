// MIXQ_UNROLL: full unrolling of the constant-trip loops over the kernels' small register arrays
// (acc[MT][NR], w[NR], ...). At -O2 GCC does not fully unroll them, so the arrays live on the
// stack and every update pays a store-forward round trip: the BF16 decode kernel ran at ~65 % of
// the speed of the same code with the arrays in registers.
#pragma once

#define MIXQ_UNROLL _Pragma("GCC unroll 16")
