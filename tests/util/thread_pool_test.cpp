// ThreadPool: coverage of [0, n), exceptions propagate to the caller, nested loops run inline.
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "util/error.h"

using namespace mixq;

TEST(ThreadPool, CoversEveryIndexOnce) {
  ThreadPool pool(4);
  for (size_t n : {0, 1, 7, 1000, 12345}) {
    std::vector<std::atomic<int>> hit(n);
    pool.parallel_for(n, 3, [&](size_t b, size_t e, size_t tid) {
      EXPECT_LT(tid, pool.size());
      for (size_t i = b; i < e; ++i) hit[i]++;
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hit[i].load(), 1) << n << " " << i;
  }
}

TEST(ThreadPool, ExceptionReachesTheCallerAndThePoolStaysUsable) {
  ThreadPool pool(4);
  for (int rep = 0; rep < 20; ++rep) {
    EXPECT_THROW(pool.parallel_for(64, 1, [&](size_t b, size_t e, size_t) {
      if (b <= 37 && 37 < e) fail("bad chunk {}", b);
    }), InputError);
  }
  std::atomic<size_t> sum{0};
  pool.parallel_for(100, 1, [&](size_t b, size_t e, size_t) { sum += e - b; });
  EXPECT_EQ(sum.load(), 100u);
}

TEST(ThreadPool, NestedParallelForRunsInline) {
  ThreadPool pool(3);
  std::atomic<size_t> total{0};
  pool.parallel_for(8, 1, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; ++i)
      pool.parallel_for(10, 1, [&](size_t b2, size_t e2, size_t) { total += e2 - b2; });
  });
  EXPECT_EQ(total.load(), 80u);
}
