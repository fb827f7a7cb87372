// Signal watchdog: makes SIGINT, SIGTERM and SIGHUP still end a process whose JavaScript thread
// is blocked (a CPU-bound synchronous workload) while trackers hold JavaScript handlers for them.
//
// Node runs a signal's JavaScript listeners on the event loop; a blocked loop never runs them, so
// without this a Ctrl-C would wait for the workload to finish. While armed, a handler chained in
// front of libuv's notes when each watched signal arrived; a watchdog thread re-raises the signal
// with its default action when JavaScript has not acknowledged it (signalHandled) within the
// grace period. The run is then kept by its in-flight checkpoint (stored as `killed`).
// While no run is active but the handlers are kept (the idle window), a watched signal that has
// no other listener takes its default action at once in the handler, as with no listener at all.
#pragma once

#include <napi.h>

namespace let {

// Adds armSignalWatchdog(signals: number[], graceMs: number): boolean,
// signalHandled(signal: number): void, disarmSignal(signal: number): void,
// setSignalWatchdogIdle(signals: number[] | null): void and disarmSignalWatchdog(): void to
// `exports`, and an env cleanup hook that disarms (and joins the watchdog thread).
// JavaScript thread of `env`.
void RegisterSignalWatchdog(Napi::Env env, Napi::Object exports);

}  // namespace let
