// A persistent pool of worker threads for data-parallel loops (kernels, quantization).
// parallel_for splits [0, n) into contiguous chunks; the calling thread takes part, so a pool of
// size 1 runs inline with no synchronisation cost. An exception thrown by fn (e.g. InputError) is
// rethrown by parallel_for once every chunk has finished; a parallel_for called from inside fn
// runs inline (no deadlock on the shared workers). Calls from several outside threads at once
// are serialised (one job at a time).
//
// Scheduling: chunks are "guided": each is max(grain, remaining / (2 x threads)) items, so the
// threads finish within one small chunk of each other instead of one 1/(4 x threads) slice. The
// chunk boundaries depend only on n, grain and the pool size, never on timing.
// Wake-ups: an idle worker first spins on an atomic job counter for a short while (MIXQ_SPIN_US,
// default 100 us) and only then sleeps on a condition variable, and the caller spins the same way
// before sleeping while it waits for the last chunk; each budget halves after a wait longer than
// MIXQ_SPIN_US (idle, or a loaded machine: less CPU is burnt) and returns to the full budget after
// a shorter one (the spin would have been cheaper than the sleep). A decode step
// issues a dispatch every few hundred microseconds; a futex sleep/wake pair costs tens of microseconds in a VM and more when
// the woken thread has to be scheduled (docs/perf-engine.md). The spin is bounded, so an idle
// process does not burn CPU for more than MIXQ_SPIN_US after its last job.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
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
  // How [0, n) is cut: Guided (the default, see above) or Fixed: chunks of exactly `grain` items
  // (the last may be smaller), claimed in order, for a few coarse items of uneven cost or with
  // dependencies between them (the MoE's expert tasks: a thread that claims 4 tasks at once makes
  // the others wait on the last of them).
  enum class Chunking { Guided, Fixed };
  // fn(begin, end, thread_index) over chunks of at least `grain` items (the last may be smaller).
  void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t, size_t)>& fn,
                    Chunking chunking = Chunking::Guided);

  static ThreadPool& global();

 private:
  void worker_loop(size_t index);
  void run_chunks(uint64_t job, size_t thread_index);
  // Returns once pred() holds: spins up to budget_ns, then sleeps on cv (notified under mu_).
  // Adapts budget_ns (see the .cpp).
  template <class Pred>
  void wait_until(Pred pred, int64_t& budget_ns, std::condition_variable& cv);

  std::vector<std::thread> workers_;
  std::mutex submit_mu_;  // one job at a time
  std::mutex mu_;         // guards the sleeping side of job_seq_ / pending_ and error_
  std::condition_variable cv_, done_cv_;
  int64_t spin_ns_ = 100000;         // MIXQ_SPIN_US: the most a wait spins before sleeping
  int64_t caller_spin_ns_ = 100000;  // the caller's current budget (under submit_mu_)

  // The current job. Written by parallel_for before job_seq_ is bumped (release); read by the
  // workers after they see the new job_seq_ (acquire).
  const std::function<void(size_t, size_t, size_t)>* job_ = nullptr;
  std::vector<size_t> rev_bounds_;  // chunk boundaries, last to first (see parallel_for)
  // Claims: (job sequence number << 32) | chunks not yet claimed, decremented by CAS, so that a
  // thread still draining a finished job can never claim a chunk of the next one.
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint64_t> job_seq_{0};
  std::atomic<size_t> pending_{0};  // chunks of the current job not yet finished
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;  // first exception of the current job (under mu_)
};

}  // namespace mixq
