#include "util/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace mixq {

namespace {
thread_local bool t_in_pool_job = false;  // true inside fn: nested parallel_for runs inline
}

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) {
    const char* env = std::getenv("MIXQ_THREADS");
    threads = env ? size_t(std::max(1, std::atoi(env))) : std::max(1u, std::thread::hardware_concurrency());
  }
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool;
  return pool;
}

void ThreadPool::run_chunks(size_t thread_index) {
  for (;;) {
    size_t c;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (next_chunk_ >= job_chunks_) return;
      c = next_chunk_++;
    }
    size_t per = (job_n_ + job_chunks_ - 1) / job_chunks_;
    size_t b = c * per, e = std::min(job_n_, b + per);
    std::exception_ptr err;
    if (b < e) {
      t_in_pool_job = true;
      try {
        (*job_)(b, e, thread_index);
      } catch (...) {
        err = std::current_exception();
      }
      t_in_pool_job = false;
    }
    std::lock_guard<std::mutex> lk(mu_);
    if (err && !error_) {
      error_ = err;
      pending_ -= job_chunks_ - next_chunk_;  // skip the chunks nobody has started
      next_chunk_ = job_chunks_;
    }
    if (--pending_ == 0) done_cv_.notify_all();
  }
}

void ThreadPool::worker_loop(size_t index) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_chunks(index);
  }
}

void ThreadPool::parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  size_t chunks = std::min(size() * 4, (n + grain - 1) / grain);
  if (chunks <= 1 || workers_.empty() || t_in_pool_job) {
    fn(0, n, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    job_ = &fn;
    job_n_ = n;
    job_chunks_ = chunks;
    next_chunk_ = 0;
    pending_ = chunks;
    ++generation_;
  }
  cv_.notify_all();
  run_chunks(0);
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] { return pending_ == 0; });
  job_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace mixq
