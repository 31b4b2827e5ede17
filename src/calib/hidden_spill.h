// Spill of the AWQ calibration hidden states (issue 6): above a memory budget, the [N, H] fp32
// residual stream (768 MiB at 64k tokens x 3072; 12 GiB at 1M tokens) is held in a file-backed
// shared mapping instead of anonymous RAM, so the kernel can write it back and evict it under memory
// pressure, and RSS stays bounded by what the current step touches.
//
// How: the calib::Matrix keeps its std::vector<float> (every algorithm takes a Matrix), and the
// page-aligned interior of that vector's buffer is replaced in place (mmap MAP_FIXED | MAP_SHARED)
// by a mapping of a file in the resume-state directory, created with the buffer's current content.
// The file is unlinked right away: nothing is left behind on any exit, kill -9 included; its disk
// blocks (reserved up front with posix_fallocate, so a full disk is an error here and never a
// SIGBUS later) are freed when the vector's memory is unmapped. At most the first and last partial
// page (< 8 KiB) stay anonymous. When the vector is freed, glibc munmaps the whole chunk, file part
// included (buffers this large are always their own mmap in glibc; smaller ones stay correct, since
// a shared mapping of a private unlinked file is ordinary memory for every reader and writer).
//
// Cost: allocating the Matrix touches its N x H x 4 B of anonymous pages once before they are
// replaced (nothing else large is alive at that point), plus one sequential write of the buffer.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "calib/matrix.h"

namespace mixq::calib {

class HiddenSpill {
 public:
  // Moves m's buffer (all but < 2 pages) onto a file in `dir`. nullptr when the buffer spans no whole
  // page. InputError naming the directory when the file cannot be created or reserved.
  static std::unique_ptr<HiddenSpill> attach(Matrix& m, const std::string& dir);

  // True while m still uses the buffer this spill was attached to (a reassigned Matrix has a new,
  // anonymous buffer and needs a new spill).
  bool covers(const Matrix& m) const;
  // Drops the spilled pages from this process's resident set (MADV_DONTNEED on a shared mapping:
  // dirty pages stay in the page cache and are written back; the next access faults them in again).
  void release_resident() const;
  uint64_t bytes() const { return len_; }

 private:
  HiddenSpill(const float* buffer, char* begin, uint64_t len) : buffer_(buffer), begin_(begin), len_(len) {}
  const float* buffer_;
  char* begin_;
  uint64_t len_;
};

}  // namespace mixq::calib
