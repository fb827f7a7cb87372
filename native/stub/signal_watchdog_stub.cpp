// Signal watchdog on platforms without POSIX signals here: the same surface, arming nothing.
// JavaScript thread only.
#include "../main_thread.h"
#include "../signal_watchdog.h"

namespace let {

namespace {
Napi::Value Arm(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), false); }
void Nothing(const Napi::CallbackInfo&) {}
}  // namespace

void RegisterSignalWatchdog(Napi::Env env, Napi::Object exports) {
  exports.Set("armSignalWatchdog", Napi::Function::New(env, Arm, "armSignalWatchdog"));
  exports.Set("signalHandled", Napi::Function::New(env, Nothing, "signalHandled"));
  exports.Set("disarmSignal", Napi::Function::New(env, Nothing, "disarmSignal"));
  exports.Set("disarmSignalWatchdog", Napi::Function::New(env, Nothing, "disarmSignalWatchdog"));
  exports.Set("setSignalWatchdogIdle", Napi::Function::New(env, Nothing, "setSignalWatchdogIdle"));
  RegisterIsMainThread(env, exports);
}

}  // namespace let
