// Node-API surface of the store's lock (lib/native/types.ts: NativeBinding.lockTry & co.).
//
// Threads: RegisterLockFunctions, every exported function and LockTable run on the JavaScript
// thread of their env (LetAddon's env cleanup hook included), so the table needs no lock.
#pragma once

#include <napi.h>

#include <unordered_set>

namespace let {

// The lock descriptors one env holds (per-env state: a worker's locks are its own). Owned by the
// env's LetAddon (addon.cpp), whose env cleanup hook calls CloseAll(): a worker terminated (or a
// process exiting) while it holds the lock releases it.
struct LockTable {
  std::unordered_set<int> held;
  void CloseAll();
};

// Export lockSupported, lockTry, lockRelease, lockStillHeld, lockHolder and heldLocks on
// `exports`, working on `table`, which the caller keeps alive for the env's lifetime.
void RegisterLockFunctions(Napi::Env env, Napi::Object exports, LockTable* table);

}  // namespace let
