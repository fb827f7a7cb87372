// The sampling thread's timed wait (see Waiter below). Linux: one futex word
// (native/linux/futex_waiter.h); elsewhere a condition variable with the same contract.
//
// Threads: Wait and WaitUntil on the sampling thread only; Notify on the JavaScript thread.
#pragma once

#if defined(__linux__)
#include "linux/futex_waiter.h"
#else
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace let {

class Waiter {
 public:
  uint32_t Generation() {
    std::lock_guard<std::mutex> lk(mu_);
    return gen_;
  }
  // Sampling thread: true when Notify moved the generation away from `seen`, false on the deadline.
  bool WaitUntil(uint32_t seen, int64_t deadline_ns) {
    const std::chrono::steady_clock::time_point at{std::chrono::nanoseconds(deadline_ns)};
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_until(lk, at, [&] { return gen_ != seen; });
  }
  // Sampling thread: sleeps with no deadline until Notify moves the generation away from `seen`.
  void Wait(uint32_t seen) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return gen_ != seen; });
  }
  // JavaScript thread.
  void Notify() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++gen_;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t gen_ = 0;
};

}  // namespace let
#endif
