#!/usr/bin/python3
"""Golden tables for mixq's scalar conversions (src/util/dtype.h), tests/golden/dtype/*.bin.

Run once with Debian's /usr/bin/python3 (torch + numpy); CI only reads the committed tables.

  <fmt>_decode.bin  u32 little-endian per code (2^16 for bf16/f16, 2^8 for fp8): the fp32 bits
  <fmt>_encode.bin  pairs (u32 fp32 bits in, u32 code out): every code's value, every midpoint
                    between adjacent codes and the fp32 neighbours of each midpoint (both signs),
                    +-0, +-Inf, NaNs, overflow boundaries and 20000 random fp32 bit patterns.

References:
  bf16, f16   PyTorch itself (tensor.to(dtype) on CPU, and back with .float()).
  fp8 e4m3fn, e5m2: Debian's torch (1.13) has no float8 dtypes, so these tables come from an exact
              rational model of the formats with PyTorch's c10 rules: round to nearest, ties to even;
              e4m3fn has no Inf: NaN/Inf and anything that rounds past 448 (|x| > 464) become NaN
              0x7f|sign (no saturation), 0x7f/0xff decode to NaN; e5m2 is IEEE-like: overflow -> Inf,
              NaN -> 0x7f|sign. e5m2 decoding is f16 decoding of code << 8 (done by torch).
NaN bit patterns: the test only checks NaN-ness where an input or output is NaN (torch's
vectorized bf16 path writes 0xffff, its scalar path 0x7fc0; both are NaN).
"""
import os
import struct
from fractions import Fraction

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dtype")
rng = np.random.default_rng(12345)


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def bits_f32(b):
    return struct.unpack("<f", struct.pack("<I", b))[0]


def next_up(b):  # next fp32 toward +inf for a positive finite pattern
    return b + 1


def torch_decode16(dtype):
    codes = np.arange(65536, dtype=np.uint16).view(np.int16)
    return torch.from_numpy(codes).view(dtype).float().numpy().view(np.uint32)


def torch_encode16(dtype, bits):
    x = torch.from_numpy(np.array(bits, dtype=np.uint32).view(np.float32))
    return x.to(dtype).view(torch.int16).numpy().view(np.uint16).astype(np.uint32)


def fp8_value(code, ebits, mbits):  # magnitude code -> exact Fraction (no special casing)
    bias = (1 << (ebits - 1)) - 1
    e, m = (code >> mbits) & ((1 << ebits) - 1), code & ((1 << mbits) - 1)
    if e == 0:
        return Fraction(m, 1 << mbits) * Fraction(2) ** (1 - bias)
    return (1 + Fraction(m, 1 << mbits)) * Fraction(2) ** (e - bias)


def exact(b):  # fp32 bits of a finite value -> Fraction
    s = (b >> 31) & 1
    e, m = (b >> 23) & 0xFF, b & 0x7FFFFF
    v = Fraction(m, 1 << 23) * Fraction(2) ** -126 if e == 0 else (1 + Fraction(m, 1 << 23)) * Fraction(2) ** (e - 127)
    return -v if s else v


def fp8_encode(b, ebits, mbits, top_code, overflow_code, nan_code):
    """top_code: the largest magnitude code that rounding may land on (a virtual one included)."""
    sign = 0x80 if b >> 31 else 0
    if (b >> 23) & 0xFF == 0xFF:  # Inf or NaN
        return (nan_code if b & 0x7FFFFF else overflow_code) | sign
    x = abs(exact(b))
    grid = [fp8_value(c, ebits, mbits) for c in range(top_code + 1)]
    if x >= grid[-1]:
        return overflow_code | sign
    lo, hi = 0, top_code
    while hi - lo > 1:  # grid[lo] <= x < grid[hi]
        mid = (lo + hi) // 2
        if grid[mid] <= x:
            lo = mid
        else:
            hi = mid
    d0, d1 = x - grid[lo], grid[hi] - x
    code = lo if d0 < d1 else hi if d1 < d0 else (lo if lo % 2 == 0 else hi)
    return code | sign


def encode_inputs(values, extra):
    """values: sorted finite non-negative representable values (as fp32 bits)."""
    ins = []
    for b in values:
        ins += [b, b | 0x80000000]
    for a, c in zip(values, values[1:]):
        m = (exact(a) + exact(c)) / 2
        mb = f32_bits(float(m))
        assert exact(mb) == m, "midpoint not exact in fp32"
        for v in (mb, mb + 1, mb - 1):
            ins += [v, v | 0x80000000]
    ins += extra
    ins += [int(x) for x in rng.integers(0, 1 << 32, size=20000, dtype=np.uint64)]
    specials = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF,
                0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x80000001, 0x00800000, 0x007FFFFF]
    return ins + specials


def write_decode(name, bits):
    np.asarray(bits, dtype="<u4").tofile(os.path.join(OUT, name + "_decode.bin"))


def write_encode(name, ins, outs):
    pairs = np.empty((len(ins), 2), dtype="<u4")
    pairs[:, 0] = np.asarray(ins, dtype=np.uint64).astype(np.uint32)
    pairs[:, 1] = np.asarray(outs, dtype=np.uint64).astype(np.uint32)
    pairs.tofile(os.path.join(OUT, name + "_encode.bin"))
    print(f"{name}: {len(ins)} encode cases")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, dtype, maxes in (("bf16", torch.bfloat16, []), ("f16", torch.float16, [65504.0, 65519.0, 65520.0, 65536.0])):
        dec = torch_decode16(dtype)
        write_decode(name, dec)
        finite = sorted({int(dec[c]) for c in range(0x8000) if (int(dec[c]) >> 23) & 0xFF != 0xFF}, key=bits_f32)
        ins = encode_inputs(finite, [f32_bits(m) for m in maxes])
        write_encode(name, ins, torch_encode16(dtype, ins))

    # float8_e4m3fn: codes 0..0x7e finite, 0x7f NaN; 480 is the virtual code 0x7f that rounding can reach.
    dec = []
    for c in range(256):
        if c & 0x7F == 0x7F:
            dec.append(0x7FF00000 | ((c & 0x80) << 24))  # c10's NaN pattern
        else:
            v = float(fp8_value(c & 0x7F, 4, 3))
            dec.append(f32_bits(v) | ((c & 0x80) << 24))  # sign bit kept for -0 too
    write_decode("e4m3", dec)
    finite = [f32_bits(float(fp8_value(c, 4, 3))) for c in range(0x7F)]
    extra = [f32_bits(v) for v in (448.0, 449.0, 463.99997, 464.0, 464.00003, 479.99997, 480.0, 481.0, 512.0, 1e6,
                                   2.0 ** -9, 2.0 ** -10, 2.0 ** -11, 1.5 * 2.0 ** -10)]
    extra += [b | 0x80000000 for b in extra]
    ins = encode_inputs(finite, extra)
    write_encode("e4m3", ins, [fp8_encode(b, 4, 3, 0x7F, 0x7F, 0x7F) for b in ins])

    # float8_e5m2: the top byte of an IEEE half.
    codes = (np.arange(256, dtype=np.uint16) << 8).view(np.int16)
    dec = torch.from_numpy(codes).view(torch.float16).float().numpy().view(np.uint32)
    write_decode("e5m2", dec)
    finite = [f32_bits(float(fp8_value(c, 5, 2))) for c in range(0x7C)]
    extra = [f32_bits(v) for v in (57344.0, 61439.996, 61440.0, 61440.004, 65536.0, 1e9, 2.0 ** -17, 2.0 ** -16)]
    extra += [b | 0x80000000 for b in extra]
    ins = encode_inputs(finite, extra)
    write_encode("e5m2", ins, [fp8_encode(b, 5, 2, 0x7C, 0x7C, 0x7F) for b in ins])


if __name__ == "__main__":
    main()
