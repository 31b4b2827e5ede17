// ThreadPool: coverage of [0, n), exceptions propagate to the caller, nested loops run inline.
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
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

// Fixed chunking: every chunk is exactly `grain` items (the last the remainder), guided chunking
// starts larger; both cover [0, n) once.
TEST(ThreadPool, FixedChunksAreExactlyTheGrain) {
  ThreadPool pool(3);
  for (size_t grain : {1, 4}) {
    const size_t n = 23;
    std::mutex mu;
    std::vector<std::pair<size_t, size_t>> chunks;
    std::vector<std::atomic<int>> hit(n);
    pool.parallel_for(
        n, grain,
        [&](size_t b, size_t e, size_t) {
          for (size_t i = b; i < e; ++i) hit[i]++;
          std::lock_guard<std::mutex> lk(mu);
          chunks.emplace_back(b, e);
        },
        ThreadPool::Chunking::Fixed);
    std::sort(chunks.begin(), chunks.end());
    ASSERT_EQ(chunks.size(), (n + grain - 1) / grain);
    for (size_t c = 0; c < chunks.size(); ++c) {
      EXPECT_EQ(chunks[c].first, c * grain);
      EXPECT_EQ(chunks[c].second, std::min(n, (c + 1) * grain));
    }
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hit[i].load(), 1);
  }
  size_t first = 0;
  pool.parallel_for(64, 1, [&](size_t b, size_t e, size_t) {
    if (b == 0) first = e;
  });
  EXPECT_GT(first, 1u) << "guided chunking starts with a chunk larger than the grain";
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

// Many tiny back-to-back jobs: a worker still draining job J must never claim a chunk of job J+1
// (claims carry the job number), and every job's chunks are run exactly once.
TEST(ThreadPool, BackToBackJobsNeverMixChunks) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 20000; ++rep) {
    const size_t n = 1 + size_t(rep % 9);
    std::vector<std::atomic<int>> hit(n);
    pool.parallel_for(n, 1, [&](size_t b, size_t e, size_t) {
      for (size_t i = b; i < e; ++i) hit[i]++;
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hit[i].load(), 1) << rep << " " << i;
  }
}

// Chunk boundaries depend only on (n, grain, pool size): guided sizes, none below grain but the last.
TEST(ThreadPool, ChunkBoundariesAreDeterministicAndGuided) {
  ThreadPool pool(2);
  auto bounds = [&] {
    std::mutex mu;
    std::vector<std::pair<size_t, size_t>> v;
    pool.parallel_for(1000, 10, [&](size_t b, size_t e, size_t) {
      std::lock_guard<std::mutex> lk(mu);
      v.emplace_back(b, e);
    });
    std::sort(v.begin(), v.end());
    return v;
  };
  const auto a = bounds();
  for (int rep = 0; rep < 50; ++rep) ASSERT_EQ(bounds(), a);
  ASSERT_GT(a.size(), 4u);
  EXPECT_EQ(a.front().second - a.front().first, 250u);  // first chunk: 1000 / (2 x 2 threads)
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    EXPECT_EQ(a[i].second, a[i + 1].first);
    EXPECT_GE(a[i].second - a[i].first, 10u);
    EXPECT_GE(a[i].second - a[i].first, a[i + 1].second - a[i + 1].first);  // non-increasing
  }
}

// Several outside threads sharing one pool: jobs are serialised, each still covered exactly once.
TEST(ThreadPool, ConcurrentCallersAreSerialised) {
  ThreadPool pool(3);
  std::vector<std::thread> callers;
  std::atomic<int> bad{0};
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 500; ++rep) {
        std::vector<std::atomic<int>> hit(97);
        pool.parallel_for(97, 2, [&](size_t b, size_t e, size_t) {
          for (size_t i = b; i < e; ++i) hit[i]++;
        });
        for (auto& h : hit) bad += h.load() != 1;
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(bad.load(), 0);
}
