// Reusable per-thread scratch buffers for the forward pass. A decode step used to allocate (and
// zero) about 15 std::vectors per layer; a Lease<W> hands out one thread_local W whose vectors keep
// their capacity from call to call. If that W is already leased on this thread (an observer
// callback re-entering the model), the lease makes a fresh W instead, so re-entry stays correct.
// Memory: each W holds the largest sizes its function has seen on this thread, i.e. O(prefill
// chunk x widths) (model.h), until the thread ends.
#pragma once
#include <memory>
#include <vector>

namespace mixq {

template <class W>
class Lease {
 public:
  Lease() {
    if (!busy()) {
      busy() = true;
      w_ = &shared();
    } else {
      own_ = std::make_unique<W>();
      w_ = own_.get();
    }
  }
  ~Lease() {
    if (!own_) busy() = false;
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  W* operator->() { return w_; }
  W& operator*() { return *w_; }

 private:
  static W& shared() {
    thread_local W w;
    return w;
  }
  static bool& busy() {
    thread_local bool b = false;
    return b;
  }
  W* w_ = nullptr;
  std::unique_ptr<W> own_;
};

// Resizes without shrinking capacity; the contents are whatever was there (callers overwrite).
template <class T>
T* sized(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace mixq
