// Node-API surface of the store's lock (lib/native/types.ts: NativeBinding.lockTry & co.).
//
// Threads: RegisterLockFunctions and every exported function run on the JavaScript thread of
// their env; the env cleanup hook runs on that thread at env teardown.
#pragma once

#include <napi.h>

#include <memory>

namespace let {

// The lock descriptors one env holds (per-env state: a worker's locks are its own).
struct LockTable;

// Export lockSupported, lockTry, lockRelease, lockHolder and lockStillHeld on `exports`, with a
// table for this env, and add an env cleanup hook that closes every descriptor still held: a
// worker terminated (or a process exiting) while it holds the lock releases it. The caller
// keeps the returned table alive for the env's lifetime (the functions point to it).
std::shared_ptr<LockTable> RegisterLockFunctions(Napi::Env env, Napi::Object exports);

}  // namespace let
