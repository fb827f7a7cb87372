/*
 * let_exec: runs a command that dies with the process that spawned it.
 *
 *   let_exec <parent-pid> <path> <argv0> [args...]
 *
 * `lamarr-energy-tracker run` spawns the command through this helper: it asks the kernel to
 * send SIGKILL when its parent dies (PR_SET_PDEATHSIG, which survives execve but which Node
 * cannot set between fork and exec), checks that the parent is still the one that spawned it
 * (it may have died before the prctl), then replaces itself with the command (same pid, same
 * process group, stdio and environment untouched). If `run` is killed (kill -9, OOM), the
 * command does not keep running unobserved.
 *
 * Exit status when the command cannot be executed: 127 (not found), 126 (not executable or
 * other exec failure), 125 (this helper's own usage errors), as env(1) does.
 * Single-threaded program; no locks.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "let_exec: usage: let_exec <parent-pid> <path> <argv0> [args...]\n");
    return 125;
  }
  char *end = NULL;
  long parent = strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || parent <= 0) {
    fprintf(stderr, "let_exec: bad parent pid %s\n", argv[1]);
    return 125;
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    fprintf(stderr, "let_exec: prctl(PR_SET_PDEATHSIG): %s\n", strerror(errno));
    return 125;
  }
  /* The parent died before the prctl took effect: behave as if the signal had come. */
  if ((long)getppid() != parent) raise(SIGKILL);
  const char *path = argv[2];
  char **command = argv + 3; /* argv0 as the user typed it, then the arguments, then NULL */
  execv(path, command);
  int error = errno;
  if (error == ENOEXEC) {
    /* A script without "#!": run it with the shell, as execvp (and so Node's spawn) does. */
    char **shell = calloc((size_t)argc, sizeof(char *));
    if (shell != NULL) {
      shell[0] = "sh";
      shell[1] = (char *)path;
      for (int i = 4; i < argc; i++) shell[i - 2] = argv[i];
      execv("/bin/sh", shell);
      error = errno;
    }
  }
  fprintf(stderr, "lamarr-energy-tracker run: cannot execute %s: %s\n", path, strerror(error));
  return error == ENOENT ? 127 : 126;
}
