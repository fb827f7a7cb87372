// Linux: the sampling thread's (and the signal watchdog's) wait, one futex word and no mutex. A
// tick that times out costs exactly one system call (FUTEX_WAIT_BITSET with an absolute
// CLOCK_MONOTONIC deadline); nothing is woken or unlocked when nobody changed anything. A wait
// with no deadline (a parked thread) makes no system call until Notify.
//
// Threads: Wait and WaitUntil run on the waiting thread only (the sampling thread; the signal
// watchdog's thread); Notify on the JavaScript thread (after it changed the sampler's control
// state under Sampler::ctl_mu_), or in a signal handler (the watchdog: an atomic add and one
// system call, both async-signal-safe). No lock is held by any of them.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>

namespace let {

class Waiter {
 public:
  // The generation to pass to WaitUntil: read it together with the control state it guards.
  uint32_t Generation() const { return gen_.load(std::memory_order_acquire); }

  // Sampling thread. Sleeps until `deadline_ns` (CLOCK_MONOTONIC) unless the generation moves
  // away from `seen`. Returns true when it did (Notify was called), false on the deadline.
  bool WaitUntil(uint32_t seen, int64_t deadline_ns) {
    timespec at{};
    at.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    at.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    for (;;) {
      if (gen_.load(std::memory_order_acquire) != seen) return true;
      const long r = syscall(SYS_futex, reinterpret_cast<uint32_t*>(&gen_), FUTEX_WAIT_BITSET_PRIVATE, seen, &at,
                             nullptr, FUTEX_BITSET_MATCH_ANY);
      if (r == 0) continue;  // woken (or spuriously): the generation check above decides
      if (errno == ETIMEDOUT) return gen_.load(std::memory_order_acquire) != seen;
      if (errno == EAGAIN) return true;  // the generation had already moved
      // EINTR: wait again until the same deadline.
    }
  }

  // Waiting thread. Sleeps with no deadline (no CPU, no wake-up) until the generation moves
  // away from `seen` (Notify was called).
  void Wait(uint32_t seen) {
    while (gen_.load(std::memory_order_acquire) == seen) {
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&gen_), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
      // Woken, spuriously woken, EAGAIN (already moved) or EINTR: the loop condition decides.
    }
  }

  // JavaScript thread (or signal context). Wakes the waiting thread to re-read its state.
  void Notify() {
    gen_.fetch_add(1, std::memory_order_acq_rel);
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&gen_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }

 private:
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word must be 32 bits");
  std::atomic<uint32_t> gen_{0};
};

}  // namespace let
