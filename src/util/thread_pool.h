// A persistent pool of worker threads for data-parallel loops (kernels, quantization).
// parallel_for splits [0, n) into contiguous chunks; the calling thread takes part, so a pool of
// size 1 runs inline with no synchronisation cost. An exception thrown by fn (e.g. InputError) is
// rethrown by parallel_for once every chunk has finished; a parallel_for called from inside fn
// runs inline (no deadlock on the shared workers).
#pragma once
#include <condition_variable>
#include <exception>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mixq {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads = 0);  // 0 = hardware concurrency (or MIXQ_THREADS)
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size() + 1; }
  // fn(begin, end, thread_index) over chunks of at least `grain` items.
  void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t, size_t)>& fn);

  static ThreadPool& global();

 private:
  void worker_loop(size_t index);
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(size_t, size_t, size_t)>* job_ = nullptr;
  size_t job_n_ = 0, job_chunks_ = 0, next_chunk_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;  // first exception of the current job
  void run_chunks(size_t thread_index);
};

}  // namespace mixq
