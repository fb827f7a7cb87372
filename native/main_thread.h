// isMainThread(): whether the calling environment is Node's main thread (its event loop is
// libuv's default loop; every worker thread runs a loop of its own). Signals reach only the
// main thread's `process` listeners, so the watchdog is armed from there; asking the addon
// spares loading node:worker_threads on the first start() (about 1.5 ms).
// JavaScript thread of the calling env.
#pragma once

#include <napi.h>
#include <uv.h>

namespace let {

inline Napi::Value IsMainThread(const Napi::CallbackInfo& info) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(info.Env(), &loop) != napi_ok) throw Napi::Error::New(info.Env(), "no event loop");
  return Napi::Boolean::New(info.Env(), loop == uv_default_loop());
}

inline void RegisterIsMainThread(Napi::Env env, Napi::Object exports) {
  exports.Set("isMainThread", Napi::Function::New(env, IsMainThread, "isMainThread"));
}

}  // namespace let
