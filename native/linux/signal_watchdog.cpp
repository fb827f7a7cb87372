// Signal watchdog, POSIX implementation (see signal_watchdog.h).
//
// Threads: Arm/Handled/Disarm run on the JavaScript thread of the env that armed it; OnSignal
// runs in signal context on whichever thread the kernel picks (async-signal-safe code only:
// atomics and clock_gettime); the watchdog thread only reads atomics, calls sigaction and kill.
// Ownership: one Watchdog per env (held by the env's cleanup hook), which starts, stops and
// joins its thread. The per-signal slots are process-wide, as a signal handler can only reach
// statics; only one env may arm at a time (g_owner).
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../signal_watchdog.h"

namespace let {

namespace {

constexpr int kMaxSignal = 65;

struct Slot {
  std::atomic<bool> armed{false};
  std::atomic<int64_t> pending_since_ns{0};  // 0: nothing unacknowledged
  struct sigaction previous {};              // written by the JS thread before our handler is installed
};

Slot g_slots[kMaxSignal];
std::atomic<void*> g_owner{nullptr};

int64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Signal context: note the arrival, then hand the signal to the handler that was there (libuv's).
void OnSignal(int signo, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (signo > 0 && signo < kMaxSignal) {
    Slot& slot = g_slots[signo];
    int64_t none = 0;
    slot.pending_since_ns.compare_exchange_strong(none, MonotonicNs());
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
  if (OursInstalled(signo)) sigaction(signo, &slot.previous, nullptr);
  slot.pending_since_ns.store(0);
}

class Watchdog {
 public:
  ~Watchdog() { Disarm(); }

  // JS thread. False when another env holds the watchdog or nothing could be armed.
  bool Arm(const std::vector<int>& signals, int64_t grace_ms) {
    void* expected = nullptr;
    if (!g_owner.compare_exchange_strong(expected, this) && expected != this) return false;
    grace_ns_ = grace_ms * 1000000;
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
      struct sigaction ours = previous;
      ours.sa_flags = (previous.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
      ours.sa_sigaction = &OnSignal;
      if (sigaction(signo, &ours, nullptr) != 0) continue;
      slot.armed.store(true);
      any = true;
    }
    if (any && !thread_.joinable()) {
      stop_ = false;
      thread_ = std::thread([this] { Run(); });
    }
    if (!any) Disarm();
    return any;
  }

  // JS thread: stop watching every signal, stop and join the thread.
  void Disarm() {
    if (g_owner.load() == this) {
      for (int signo = 1; signo < kMaxSignal; ++signo) DisarmOne(signo);
      g_owner.store(nullptr);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Watchdog thread: every 50 ms, re-raise a signal JavaScript has left unacknowledged past the
  // grace period, with its default action (the process ends as it would without listeners).
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, std::chrono::milliseconds(50));
      if (stop_) break;
      const int64_t now = MonotonicNs();
      for (int signo = 1; signo < kMaxSignal; ++signo) {
        Slot& slot = g_slots[signo];
        if (!slot.armed.load()) continue;
        const int64_t since = slot.pending_since_ns.load();
        if (since == 0 || now - since < grace_ns_) continue;
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(signo, &dfl, nullptr);
        kill(getpid(), signo);
      }
    }
  }

  int64_t grace_ns_ = 1000000000;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

struct WatchdogData {
  std::shared_ptr<Watchdog> watchdog = std::make_shared<Watchdog>();
};

Watchdog& Of(const Napi::CallbackInfo& info) { return *static_cast<WatchdogData*>(info.Data())->watchdog; }

int SignalArg(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsNumber()) throw Napi::TypeError::New(info.Env(), "signal must be a number");
  const int signo = info[index].As<Napi::Number>().Int32Value();
  if (signo <= 0 || signo >= kMaxSignal) throw Napi::RangeError::New(info.Env(), "signal out of range");
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

void Handled(const Napi::CallbackInfo& info) { g_slots[SignalArg(info, 0)].pending_since_ns.store(0); }

void DisarmSignal(const Napi::CallbackInfo& info) {
  const int signo = SignalArg(info, 0);
  if (g_owner.load() == &Of(info)) DisarmOne(signo);
}

void DisarmAll(const Napi::CallbackInfo& info) { Of(info).Disarm(); }

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
}

}  // namespace let
