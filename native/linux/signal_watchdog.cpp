// Signal watchdog, POSIX implementation (see signal_watchdog.h).
//
// Threads: Arm/SetIdle/Handled/Disarm run on the JavaScript thread of the env that armed it;
// OnSignal runs in signal context on whichever thread the kernel picks (async-signal-safe code
// only: atomics, clock_gettime, sigaction, raise and the futex wake of Waiter::Notify); the
// watchdog thread only reads atomics, calls sigaction and kill. No lock anywhere.
// Ownership: one Watchdog per env (held by the env's cleanup hook), which starts, stops and
// joins its thread. The per-signal slots and the thread's wake word are process-wide, as a
// signal handler can only reach statics; only one env may arm at a time (g_owner).
//
// The thread waits with no deadline (no CPU, no wake-up) until a watched signal arrives while a
// run is active; then until that signal's grace period ends, unless JavaScript handled it.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "../main_thread.h"
#include "../signal_watchdog.h"
#include "futex_waiter.h"

namespace let {

namespace {

constexpr int kMaxSignal = 65;
constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

struct Slot {
  std::atomic<bool> armed{false};
  std::atomic<bool> default_when_idle{false};  // while g_idle: the default action at once
  std::atomic<int64_t> pending_since_ns{0};     // 0: nothing unacknowledged
  struct sigaction previous {};                 // written by the JS thread before our handler is installed
};

Slot g_slots[kMaxSignal];
std::atomic<void*> g_owner{nullptr};
// No run is active (the handlers are kept for the idle window, lib/tracker/interruption.ts): an
// armed signal with default_when_idle takes its default action in OnSignal; the others go to
// JavaScript untimed, as they would without us.
std::atomic<bool> g_idle{false};
Waiter g_wake;  // the watchdog thread's wait: OnSignal and Disarm notify it

int64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Signal context. While idle, a signal with nobody else to hand it to takes its default action
// now: SIG_DFL, then raised again on this thread, where it stays pending (blocked while the
// handler runs) and ends the process as soon as the handler returns, exactly as with no listener.
// Otherwise note the arrival (a run is active: wake the watchdog thread), then hand the signal
// to the handler that was there (libuv's).
void OnSignal(int signo, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (signo > 0 && signo < kMaxSignal) {
    Slot& slot = g_slots[signo];
    if (g_idle.load()) {
      if (slot.default_when_idle.load()) {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(signo, &dfl, nullptr);
        raise(signo);
        errno = saved_errno;
        return;
      }
    } else {
      int64_t none = 0;
      if (slot.pending_since_ns.compare_exchange_strong(none, MonotonicNs())) g_wake.Notify();
    }
    const struct sigaction& prev = slot.previous;
    if ((prev.sa_flags & SA_SIGINFO) != 0) {
      if (prev.sa_sigaction != nullptr) prev.sa_sigaction(signo, info, context);
    } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
      prev.sa_handler(signo);
    }
  }
  errno = saved_errno;
}

bool OursInstalled(int signo) {
  struct sigaction current {};
  if (sigaction(signo, nullptr, &current) != 0) return false;
  return (current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == &OnSignal;
}

// JS thread: put back the handler we chained in front of, if ours is still the one installed
// (libuv resets a signal to SIG_DFL when its last listener goes; that must not be undone).
void DisarmOne(int signo) {
  Slot& slot = g_slots[signo];
  if (!slot.armed.exchange(false)) return;
  slot.default_when_idle.store(false);
  if (OursInstalled(signo)) sigaction(signo, &slot.previous, nullptr);
  slot.pending_since_ns.store(0);
}

class Watchdog {
 public:
  ~Watchdog() { Disarm(); }

  // JS thread. Runs are active (not idle). False when another env holds the watchdog or nothing
  // could be armed.
  bool Arm(const std::vector<int>& signals, int64_t grace_ms) {
    void* expected = nullptr;
    if (!g_owner.compare_exchange_strong(expected, this) && expected != this) return false;
    grace_ns_.store(grace_ms * 1000000);
    g_idle.store(false);
    bool any = false;
    for (int signo : signals) {
      if (signo <= 0 || signo >= kMaxSignal) continue;
      Slot& slot = g_slots[signo];
      if (slot.armed.load()) {
        any = true;
        continue;
      }
      struct sigaction previous {};
      if (sigaction(signo, nullptr, &previous) != 0) continue;
      // Only in front of a real handler (libuv's): with SIG_DFL the signal kills anyway.
      const bool has_handler = (previous.sa_flags & SA_SIGINFO) != 0
                                   ? previous.sa_sigaction != nullptr
                                   : previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN;
      if (!has_handler) continue;
      slot.previous = previous;
      slot.pending_since_ns.store(0);
      slot.default_when_idle.store(false);
      struct sigaction ours = previous;
      ours.sa_flags = (previous.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
      ours.sa_sigaction = &OnSignal;
      if (sigaction(signo, &ours, nullptr) != 0) continue;
      slot.armed.store(true);
      any = true;
    }
    if (any && !thread_.joinable()) {
      stop_.store(false);
      thread_ = std::thread([this] { Run(); });
    }
    if (!any) Disarm();
    return any;
  }

  // JS thread. `idle`: no run is active; each armed signal in `at_once` then takes its default
  // action in the handler (see OnSignal). Not idle: runs are active again.
  void SetIdle(bool idle, const std::vector<int>& at_once) {
    if (g_owner.load() != this) return;
    if (!idle) {
      g_idle.store(false);
      return;
    }
    for (int signo = 1; signo < kMaxSignal; ++signo) g_slots[signo].default_when_idle.store(false);
    for (int signo : at_once)
      if (signo > 0 && signo < kMaxSignal && g_slots[signo].armed.load()) g_slots[signo].default_when_idle.store(true);
    g_idle.store(true);
  }

  // JS thread: stop watching every signal, stop and join the thread.
  void Disarm() {
    if (g_owner.load() == this) {
      g_idle.store(false);
      for (int signo = 1; signo < kMaxSignal; ++signo) DisarmOne(signo);
      g_owner.store(nullptr);
    }
    stop_.store(true);
    g_wake.Notify();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Watchdog thread: re-raise a signal JavaScript has left unacknowledged past the grace period,
  // with its default action (the process ends as it would without listeners). Waits with no
  // deadline while nothing is pending, else until the earliest grace period ends. The generation
  // is read before the slots, so a signal noted after the scan always ends the wait.
  void Run() {
    for (;;) {
      const uint32_t seen = g_wake.Generation();
      if (stop_.load()) return;
      const int64_t now = MonotonicNs();
      const int64_t grace = grace_ns_.load();
      int64_t deadline = kNoDeadline;
      for (int signo = 1; signo < kMaxSignal; ++signo) {
        Slot& slot = g_slots[signo];
        if (!slot.armed.load()) continue;
        const int64_t since = slot.pending_since_ns.load();
        if (since == 0) continue;
        if (now - since < grace) {
          deadline = std::min(deadline, since + grace);
          continue;
        }
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(signo, &dfl, nullptr);
        slot.pending_since_ns.store(0);
        kill(getpid(), signo);
      }
      if (deadline == kNoDeadline) g_wake.Wait(seen);
      else g_wake.WaitUntil(seen, deadline);
    }
  }

  std::atomic<int64_t> grace_ns_{1000000000};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct WatchdogData {
  std::shared_ptr<Watchdog> watchdog = std::make_shared<Watchdog>();
};

Watchdog& Of(const Napi::CallbackInfo& info) { return *static_cast<WatchdogData*>(info.Data())->watchdog; }

int SignalArg(const Napi::Value& value, Napi::Env env) {
  if (!value.IsNumber()) throw Napi::TypeError::New(env, "signal must be a number");
  const int signo = value.As<Napi::Number>().Int32Value();
  if (signo <= 0 || signo >= kMaxSignal) throw Napi::RangeError::New(env, "signal out of range");
  return signo;
}

Napi::Value Arm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "signals must be an array of numbers");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "graceMs must be a number");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<int> signals;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value v = list.Get(i);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "signals must be an array of numbers");
    signals.push_back(v.As<Napi::Number>().Int32Value());
  }
  const double grace = info[1].As<Napi::Number>().DoubleValue();
  if (!(grace >= 10 && grace <= 600000)) throw Napi::RangeError::New(env, "graceMs must be between 10 and 600000");
  return Napi::Boolean::New(env, Of(info).Arm(signals, static_cast<int64_t>(grace)));
}

void Handled(const Napi::CallbackInfo& info) { g_slots[SignalArg(info[0], info.Env())].pending_since_ns.store(0); }

void DisarmSignal(const Napi::CallbackInfo& info) {
  const int signo = SignalArg(info[0], info.Env());
  if (g_owner.load() == &Of(info)) DisarmOne(signo);
}

void DisarmAll(const Napi::CallbackInfo& info) { Of(info).Disarm(); }

// setSignalWatchdogIdle(signals: number[] | null): null: runs are active; an array: no run is
// active, and these signals take their default action at once.
void SetIdle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info[0].IsNull() || info[0].IsUndefined()) return Of(info).SetIdle(false, {});
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "signals must be null or an array of numbers");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<int> signals;
  for (uint32_t i = 0; i < list.Length(); ++i) signals.push_back(SignalArg(list.Get(i), env));
  Of(info).SetIdle(true, signals);
}

}  // namespace

void RegisterSignalWatchdog(Napi::Env env, Napi::Object exports) {
  auto* data = new WatchdogData();
  std::shared_ptr<Watchdog> watchdog = data->watchdog;
  // Env teardown (JS thread of that env): disarm and join; the hook owns its own reference.
  env.AddCleanupHook([watchdog]() { watchdog->Disarm(); });
  // `data` lives as long as the functions that carry it, i.e. the env.
  env.AddCleanupHook([data]() { delete data; });
  exports.Set("armSignalWatchdog", Napi::Function::New(env, Arm, "armSignalWatchdog", data));
  exports.Set("signalHandled", Napi::Function::New(env, Handled, "signalHandled", data));
  exports.Set("disarmSignal", Napi::Function::New(env, DisarmSignal, "disarmSignal", data));
  exports.Set("disarmSignalWatchdog", Napi::Function::New(env, DisarmAll, "disarmSignalWatchdog", data));
  exports.Set("setSignalWatchdogIdle", Napi::Function::New(env, SetIdle, "setSignalWatchdogIdle", data));
  RegisterIsMainThread(env, exports);
}

}  // namespace let
