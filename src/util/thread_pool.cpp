#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MIXQ_CPU_RELAX() _mm_pause()
#else
#define MIXQ_CPU_RELAX() std::this_thread::yield()
#endif

namespace mixq {

namespace {
thread_local bool t_in_pool_job = false;  // true inside fn: nested parallel_for runs inline

constexpr uint64_t seq_of(uint64_t claim) { return claim >> 32; }
constexpr uint64_t left_of(uint64_t claim) { return claim & 0xFFFFFFFFu; }
}  // namespace

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) {
    const char* env = std::getenv("MIXQ_THREADS");
    threads = env ? size_t(std::max(1, std::atoi(env))) : std::max(1u, std::thread::hardware_concurrency());
  }
  if (const char* s = std::getenv("MIXQ_SPIN_US")) spin_ns_ = int64_t(std::max(0, std::atoi(s))) * 1000;
  caller_spin_ns_ = spin_ns_;
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool;
  return pool;
}

template <class Pred>
void ThreadPool::wait_until(Pred pred, int64_t& budget_ns, std::condition_variable& cv) {
  if (pred()) return;
  const auto t0 = std::chrono::steady_clock::now();
  if (spin_ns_ > 0) {
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        MIXQ_CPU_RELAX();
        if (pred()) {
          budget_ns = std::min(spin_ns_, budget_ns * 2);
          return;
        }
      }
      if (std::chrono::steady_clock::now() - t0 > std::chrono::nanoseconds(budget_ns)) break;
    }
  }
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv.wait(lk, pred);
  }
  // The budget after a sleep: a wait that ended within MIXQ_SPIN_US (wake-up included) should have
  // been spun through: a sleep/wake pair costs tens of microseconds in a VM, more than the spin, so
  // the budget goes back to the full MIXQ_SPIN_US. Halving it after such waits kept the workers at
  // the 1/16 floor through decode (gaps of 10-30 us between dispatches: every attention dispatch
  // paid a ~20 us wake). Only a longer wait - the machine idle, or loaded so that this thread or
  // the others were descheduled - halves it (down to 1/16), so less CPU is burnt then.
  const auto waited = std::chrono::steady_clock::now() - t0;
  budget_ns = waited <= std::chrono::nanoseconds(spin_ns_) ? spin_ns_ : std::max(spin_ns_ / 16, budget_ns / 2);
}

void ThreadPool::run_chunks(uint64_t job, size_t thread_index) {
  for (;;) {
    uint64_t c = claim_.load(std::memory_order_acquire);
    do {
      if (seq_of(c) != job || left_of(c) == 0) return;
    } while (!claim_.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel));
    // The claimed chunk is unfinished, so the job cannot end (and rev_bounds_/job_ cannot change)
    // before this thread finishes it.
    const size_t r = size_t(left_of(c));
    const size_t b = rev_bounds_[r], e = rev_bounds_[r - 1];
    std::exception_ptr err;
    t_in_pool_job = true;
    try {
      (*job_)(b, e, thread_index);
    } catch (...) {
      err = std::current_exception();
    }
    t_in_pool_job = false;
    size_t done = 1;
    if (err) {
      std::lock_guard<std::mutex> lk(mu_);
      if (!error_) error_ = err;
      // Skip the chunks nobody has started: claim them all at once and count them as finished.
      uint64_t cur = claim_.load(std::memory_order_acquire);
      while (seq_of(cur) == job && left_of(cur) > 0 &&
             !claim_.compare_exchange_weak(cur, job << 32, std::memory_order_acq_rel)) {
      }
      if (seq_of(cur) == job) done += size_t(left_of(cur));
    }
    if (pending_.fetch_sub(done, std::memory_order_acq_rel) == done) {
      std::lock_guard<std::mutex> lk(mu_);  // the caller may be about to sleep on done_cv_
      done_cv_.notify_all();
    }
  }
}

void ThreadPool::worker_loop(size_t index) {
  uint64_t seen = 0;
  int64_t budget = spin_ns_;
  for (;;) {
    auto fresh = [&] { return stop_.load(std::memory_order_acquire) || job_seq_.load(std::memory_order_acquire) != seen; };
    wait_until(fresh, budget, cv_);
    if (stop_.load()) return;
    seen = job_seq_.load(std::memory_order_acquire);
    run_chunks(seen, index);
  }
}

void ThreadPool::parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t, size_t)>& fn,
                              Chunking chunking) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  if (workers_.empty() || t_in_pool_job || n <= grain) {
    fn(0, n, 0);
    return;
  }
  std::lock_guard<std::mutex> submit(submit_mu_);
  // Guided chunk boundaries: max(grain, remaining / (2 x threads)), deterministic. Stored in
  // reverse (rev_bounds_[r] .. rev_bounds_[r - 1] is the chunk claimed when r chunks are left), so
  // a claim needs only the count left: the first claims get the large chunks, the last the small.
  std::vector<size_t> fwd{0};
  const size_t div = 2 * size();
  for (size_t b = 0; b < n;) {
    b = std::min(n, b + (chunking == Chunking::Fixed ? grain : std::max(grain, (n - b + div - 1) / div)));
    fwd.push_back(b);
  }
  const size_t chunks = fwd.size() - 1;
  rev_bounds_.assign(fwd.rbegin(), fwd.rend());
  job_ = &fn;
  pending_.store(chunks, std::memory_order_relaxed);
  const uint64_t job = job_seq_.load(std::memory_order_relaxed) + 1;
  claim_.store((job << 32) | chunks, std::memory_order_release);
  {
    // Under mu_ so that a worker between its predicate check and cv_.wait cannot miss the bump.
    std::lock_guard<std::mutex> lk(mu_);
    job_seq_.store(job, std::memory_order_release);
  }
  cv_.notify_all();
  run_chunks(job, 0);
  auto done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  wait_until(done, caller_spin_ns_, done_cv_);
  job_ = nullptr;
  std::exception_ptr err;
  {
    std::lock_guard<std::mutex> lk(mu_);
    err = std::exchange(error_, nullptr);
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace mixq
