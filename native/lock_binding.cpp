// See lock_binding.h. The platform part is native/file_lock.h.
#include "lock_binding.h"

#include <errno.h>

#include <cstring>
#include <string>

#include "file_lock.h"

namespace let {

// JS thread of the env (its cleanup hook included).
void LockTable::CloseAll() {
  for (int fd : held) FileLockRelease(fd);
  held.clear();
}

namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EROFS: return "EROFS";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
#ifdef ELOOP
    case ELOOP: return "ELOOP";
#endif
    case ENOLCK: return "ENOLCK";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
#ifdef EDQUOT  // not in MSVC's errno.h
    case EDQUOT: return "EDQUOT";
#endif
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EIO: return "EIO";
    default: return "EUNKNOWN";
  }
}

std::string PathArg(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + "(path): path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + "(path): path must be a non-empty string without NUL");
  return path;
}

LockTable* Table(const Napi::CallbackInfo& info) { return static_cast<LockTable*>(info.Data()); }

int HandleArg(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + "(handle): handle must be a number from lockTry");
  const int fd = info[0].As<Napi::Number>().Int32Value();
  if (Table(info)->held.count(fd) == 0)
    throw Napi::Error::New(info.Env(), std::string(fn) + "(handle): " + std::to_string(fd) + " is not a lock held by this thread");
  return fd;
}

// lockTry(path, holder): number (the handle) when taken, null when another holder has it;
// throws an Error with `code` (ENOTREG for a path that is not a regular file, else the errno
// name) naming the path otherwise.
Napi::Value LockTry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = PathArg(info, "lockTry");
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(env, "lockTry(path, holder): holder must be a string");
  const LockAttempt a = FileLockTry(path, info[1].As<Napi::String>().Utf8Value());
  if (a.kind == LockAttempt::kBusy) return env.Null();
  if (a.kind == LockAttempt::kHeld) {
    Table(info)->held.insert(a.fd);
    return Napi::Number::New(env, a.fd);
  }
  std::string message;
  const char* code;
  if (a.err == 0) {
    message = "the lock file " + path + " is " + a.what + "; it must be a regular file";
    code = a.what == "not supported on this platform" ? "ENOTSUP" : "ENOTREG";
  } else {
    message = a.step + " " + path + ": " + std::strerror(a.err);
    code = ErrnoName(a.err);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.Set("path", Napi::String::New(env, path));
  throw e;
}

// lockRelease(handle): releases a lock taken by lockTry in this env.
Napi::Value LockRelease(const Napi::CallbackInfo& info) {
  const int fd = HandleArg(info, "lockRelease");
  Table(info)->held.erase(fd);
  FileLockRelease(fd);
  return info.Env().Undefined();
}

// lockStillHeld(handle, path): whether `path` still names the locked file.
Napi::Value LockStillHeld(const Napi::CallbackInfo& info) {
  const int fd = HandleArg(info, "lockStillHeld");
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "lockStillHeld(handle, path): path must be a string");
  return Napi::Boolean::New(info.Env(), FileLockStillNamed(fd, info[1].As<Napi::String>().Utf8Value()));
}

// lockHolder(path): what the holder wrote, or null.
Napi::Value LockHolder(const Napi::CallbackInfo& info) {
  const std::string text = FileLockHolder(PathArg(info, "lockHolder"));
  return text.empty() ? info.Env().Null() : Napi::Value(Napi::String::New(info.Env(), text));
}

Napi::Value LockCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Table(info)->held.size()));
}

}  // namespace

void RegisterLockFunctions(Napi::Env env, Napi::Object exports, LockTable* table) {
  void* data = table;
  exports.Set("lockSupported", Napi::Boolean::New(env, FileLockSupported()));
  exports.Set("lockTry", Napi::Function::New(env, LockTry, "lockTry", data));
  exports.Set("lockRelease", Napi::Function::New(env, LockRelease, "lockRelease", data));
  exports.Set("lockStillHeld", Napi::Function::New(env, LockStillHeld, "lockStillHeld", data));
  exports.Set("lockHolder", Napi::Function::New(env, LockHolder, "lockHolder", data));
  exports.Set("heldLocks", Napi::Function::New(env, LockCount, "heldLocks", data));
}

}  // namespace let
