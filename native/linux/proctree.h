// The CPU time of a process and its live descendants, followed incrementally: the tree's members
// are remembered between reads and re-read by pid. On a sampling tick, new descendants are
// looked for only among the pids handed out since the last look (the last pid in
// <root>/proc/loadavg moved: pids are allocated cyclically upwards), one stat each. A full
// discovery (through <root>/proc/<pid>/task/<tid>/children of the members, with a scan of every
// <root>/proc/<pid>/stat only where those files do not exist) runs at construction, on every
// fresh read, and on ticks where loadavg is missing or too many pids went by. A member whose CPU time stood still
// is re-read less often (up to every 640 ms) on sampling ticks; every member is re-read on a
// fresh read, and the children of a member whose reaped-children time moved are re-read at once,
// so a descendant's time is never counted both in its own line and in its parent's cutime.
// A pid handed out whose proc entry cannot be read yet (the kernel moves loadavg's last pid when it
// allocates the pid, a moment before the new task appears in proc) is looked at again on the next
// kPendingTicks ticks, so a child caught in that moment is not missed until the next fresh read.
//
// Threads: built on the JS thread; Sum() under Sampler::read_mu_. Included by procstat.cpp alone.
#pragma once

#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fsutil.h"
#include "procstat_parse.h"

namespace let {

class ProcessTree {
 public:
  static constexpr int64_t kBasePeriodNs = 10'000'000;  // one USER_HZ tick
  static constexpr int kMaxBackoff = 6;                  // 10 ms << 6 = 640 ms
  static constexpr uint64_t kPidMax = 4194304;           // PID_MAX_LIMIT: the cursor wraps below it
  static constexpr uint64_t kMaxRange = 4096;            // more new pids than this: full discovery
  static constexpr size_t kMaxHeldFds = 512;             // members read through a descriptor kept open
  static constexpr long kProcSuperMagic = 0x9fa0;        // PROC_SUPER_MAGIC
  static constexpr int kPendingTicks = 3;                // retries of a pid not readable yet

  ProcessTree(const std::string& root, int pid) : proc_(JoinRoot(root, "proc")), pid_(pid) {
    loadavg_ = OpenRead(proc_ + "/loadavg", false);
    // On procfs a descriptor of proc/<pid>/stat belongs to that process: once it is gone, reads
    // fail (ESRCH) even if the pid is reused, so members can be re-read with one pread. A
    // simulated root (plain files) is re-opened by path on every read.
    struct statfs fs {};
    hold_fds_ = ::statfs(proc_.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kProcSuperMagic;
  }

  // Root's stat (read by the caller from its own descriptor) plus the live descendants' times.
  // `fresh`: re-read every member and look for new ones whatever the pid cursor says.
  uint64_t Sum(const ProcStat& root, int64_t now_ns, bool fresh) {
    const bool root_children_moved = root.children != root_children_;
    root_children_ = root.children;
    Refresh(now_ns, fresh, root_children_moved);
    RetryPending(now_ns);
    uint64_t cursor = 0;
    const bool have_cursor = ReadCursor(&cursor);
    if (fresh || !have_cursor || !have_cursor_ || !DiscoverRange(cursor_, cursor, now_ns)) Discover(now_ns);
    cursor_ = cursor;
    have_cursor_ = have_cursor;
    const uint64_t sum = root.own + root.children + sum_;
    return sum;
  }

  int OpenFiles() const { return (loadavg_.valid() ? 1 : 0) + static_cast<int>(held_); }

 private:
  struct Pending {
    int pid;
    int tries;  // ticks left
  };

  struct Member {
    ProcStat st;
    int idle_reads = 0;
    int64_t next_read_ns = 0;
    uint64_t round = 0;  // the Refresh that last read it
    std::multimap<int64_t, int>::iterator due;  // its entry in due_
    std::shared_ptr<Fd> fd;  // held on procfs (see the constructor), else null
  };

  std::string StatPath(int pid) const { return proc_ + "/" + std::to_string(pid) + "/stat"; }

  // The last pid handed out (5th field of loadavg): moves whenever a process or thread is created.
  bool ReadCursor(uint64_t* out) {
    if (!loadavg_.valid()) return false;
    char buf[128];
    const ssize_t r = loadavg_.Pread(buf, sizeof buf - 1, 0);
    if (r <= 0) return false;
    ssize_t i = r;
    while (i > 0 && (buf[i - 1] == '\n' || buf[i - 1] == ' ')) --i;
    const ssize_t last = i;
    while (i > 0 && buf[i - 1] >= '0' && buf[i - 1] <= '9') --i;
    return i < last && i > 0 && buf[i - 1] == ' ' && ParseU64(std::string(buf + i, buf + last), out);
  }

  // New descendants among the pids handed out in (from, to]: false when that is too many to
  // look at one by one (or the cursor went backwards more than a wrap explains).
  bool DiscoverRange(uint64_t from, uint64_t to, int64_t now_ns) {
    if (from == to) return true;
    const uint64_t count = to > from ? to - from : (kPidMax - from) + to;
    if (count > kMaxRange) return false;
    uint64_t pid = from;
    for (uint64_t k = 0; k < count; ++k) {
      pid = pid >= kPidMax ? 1 : pid + 1;
      const int c = static_cast<int>(pid);
      if (c == pid_ || members_.count(c) != 0) continue;
      // Not readable: gone already (its parent's cutime has it) or not in proc yet (retried).
      if (!TryAdd(c, now_ns) && pending_.size() < kMaxRange) pending_.push_back({c, kPendingTicks});
    }
    return true;
  }

  // Read pid `c` and add it when it is a process of the tree; false when its stat cannot be read.
  bool TryAdd(int c, int64_t now_ns) {
    ProcStat st;
    if (!ReadStatPath(StatPath(c), &st)) return false;
    if (st.ppid != pid_ && members_.count(st.ppid) == 0) return true;
    if (!IsProcess(c)) return true;  // a new thread of a member, not a process
    Add(c, st, now_ns);
    return true;
  }

  // Look again at the pids handed out earlier whose proc entry could not be read; each is given
  // up after kPendingTicks tries (a process that ran and exited meanwhile is in its parent's cutime).
  void RetryPending(int64_t now_ns) {
    size_t kept = 0;
    for (Pending& p : pending_) {
      if (p.pid == pid_ || members_.count(p.pid) != 0 || TryAdd(p.pid, now_ns)) continue;
      if (--p.tries > 0) pending_[kept++] = p;
    }
    pending_.resize(kept);
  }

  // A thread's id also has a proc/<tid>/stat; a process is its own thread group leader.
  bool IsProcess(int pid) const {
    std::string text;
    if (!ReadText(proc_ + "/" + std::to_string(pid) + "/status", &text)) return true;  // fake roots have none
    const size_t at = text.find("\nTgid:");
    if (at == std::string::npos) return true;
    uint64_t tgid = 0;
    return ParseU64(text.substr(at + 6, text.find('\n', at + 1) - at - 6), &tgid) && tgid == static_cast<uint64_t>(pid);
  }

  // Re-read the members that are due (all when fresh), then follow what moved: the children of
  // a process whose reaped-children time moved (one of them may be gone into it) and the parent
  // of one gone (its cutime has it now). Drop those gone (or replaced) and those no longer in
  // the tree.
  void Refresh(int64_t now_ns, bool fresh, bool root_children_moved) {
    ++round_;
    std::vector<int> moved, gone;
    if (root_children_moved) moved.push_back(pid_);
    auto read = [&](int pid, Member* m) {
      const uint64_t before = m->st.children;
      if (!ReadMember(pid, m, now_ns)) gone.push_back(pid);
      else if (m->st.children != before) moved.push_back(pid);
    };
    if (fresh) {
      for (auto& kv : members_) read(kv.first, &kv.second);
    } else {
      std::vector<int> due;
      for (auto it = due_.begin(); it != due_.end() && it->first <= now_ns; ++it) due.push_back(it->second);
      for (int pid : due) read(pid, &members_.find(pid)->second);
    }
    for (size_t mi = 0, gi = 0; mi < moved.size() || gi < gone.size();) {
      if (mi < moved.size()) {
        const int parent = moved[mi++];
        for (auto& kv : members_)
          if (kv.second.st.ppid == parent && kv.second.round != round_) read(kv.first, &kv.second);
      } else {
        auto parent = members_.find(members_[gone[gi++]].st.ppid);
        if (parent != members_.end() && parent->second.round != round_) read(parent->first, &parent->second);
      }
    }
    for (int pid : gone) Erase(pid);
    if (tree_changed_) Prune();
  }

  bool ReadMember(int pid, Member* m, int64_t now_ns) {
    m->round = round_;
    ProcStat st;
    const bool ok = m->fd ? ReadStatFd(*m->fd, &st) : ReadStatPath(StatPath(pid), &st);
    if (!ok || st.start_time != m->st.start_time) return false;
    const bool still = st.own == m->st.own && st.children == m->st.children;
    if (st.ppid != m->st.ppid) tree_changed_ = true;  // re-parented: maybe no longer ours
    SetStat(m, st);
    m->idle_reads = still ? std::min(m->idle_reads + 1, kMaxBackoff) : 0;
    Schedule(pid, m, now_ns + (still ? (kBasePeriodNs << m->idle_reads) : 0));
    return true;
  }

  // The running sum over the members follows every change of a member's times.
  void SetStat(Member* m, const ProcStat& st) {
    sum_ = sum_ - (m->st.own + m->st.children) + (st.own + st.children);
    m->st = st;
  }

  void Schedule(int pid, Member* m, int64_t at_ns) {
    due_.erase(m->due);
    m->next_read_ns = at_ns;
    m->due = due_.emplace(at_ns, pid);
  }

  // Keep only members whose parent chain reaches the root (an orphan is re-parented away).
  // Run only when a member left or changed parent (each pass costs a lookup per member).
  void Prune() {
    for (bool changed = true; changed;) {
      changed = false;
      for (auto it = members_.begin(); it != members_.end();) {
        const int ppid = it->second.st.ppid;
        if (ppid != pid_ && members_.find(ppid) == members_.end()) {
          it = Erase(it);
          changed = true;
        } else {
          ++it;
        }
      }
    }
    tree_changed_ = false;
  }

  void Add(int pid, const ProcStat& st, int64_t now_ns) {
    Member m;
    if (hold_fds_ && held_ < kMaxHeldFds) {
      auto fd = std::make_shared<Fd>(OpenRead(StatPath(pid), false));
      ProcStat check;
      // The descriptor must be the process just read (not a successor with the same pid).
      if (fd->valid() && ReadStatFd(*fd, &check) && check.start_time == st.start_time) m.fd = std::move(fd);
    }
    Erase(pid);
    if (m.fd) ++held_;
    m.due = due_.emplace(now_ns, pid);
    m.next_read_ns = now_ns;
    Member& added = members_[pid] = std::move(m);
    SetStat(&added, st);
  }

  void Erase(int pid) {
    auto it = members_.find(pid);
    if (it == members_.end()) return;
    Erase(it);
  }

  // Erase through an iterator (keeps held_ right); returns the next one.
  std::map<int, Member>::iterator Erase(std::map<int, Member>::iterator it) {
    tree_changed_ = true;
    if (it->second.fd) --held_;
    sum_ -= it->second.st.own + it->second.st.children;
    due_.erase(it->second.due);
    return members_.erase(it);
  }

  // New descendants: through the children files while they exist, else one scan of proc.
  void Discover(int64_t now_ns) {
    if (children_files_ && DiscoverByChildren(now_ns)) return;
    children_files_ = false;
    DiscoverByScan(now_ns);
  }

  bool DiscoverByChildren(int64_t now_ns) {
    std::vector<int> queue{pid_};
    for (const auto& kv : members_) queue.push_back(kv.first);
    for (size_t q = 0; q < queue.size(); ++q) {
      const std::string task = proc_ + "/" + std::to_string(queue[q]) + "/task";
      const std::vector<std::string> tids = ListDir(task);
      if (tids.empty() && queue[q] == pid_) return false;  // no task directory: not this kernel's proc
      for (const std::string& tid : tids) {
        std::string text;
        if (!ReadText(task + "/" + tid + "/children", &text)) {
          if (errno == ENOENT && queue[q] == pid_) return false;  // kernel without CONFIG_PROC_CHILDREN
          continue;
        }
        size_t pos = 0;
        while (pos < text.size()) {
          while (pos < text.size() && text[pos] == ' ') ++pos;
          uint64_t child = 0;
          bool digits = false;
          while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            child = child * 10 + static_cast<uint64_t>(text[pos++] - '0');
            digits = true;
          }
          if (!digits) {
            ++pos;
            continue;
          }
          const int c = static_cast<int>(child);
          if (c == pid_ || members_.count(c) != 0) continue;
          ProcStat st;
          if (!ReadStatPath(StatPath(c), &st) || st.ppid != queue[q]) continue;
          Add(c, st, now_ns);
          queue.push_back(c);
        }
      }
    }
    return true;
  }

  void DiscoverByScan(int64_t now_ns) {
    std::map<int, ProcStat> all;
    for (const std::string& e : ListDir(proc_)) {
      if (e.empty() || e[0] < '0' || e[0] > '9') continue;
      uint64_t pid;
      ProcStat st;
      if (ParseU64(e, &pid) && ReadStatPath(proc_ + "/" + e + "/stat", &st)) all[static_cast<int>(pid)] = st;
    }
    for (auto it = members_.begin(); it != members_.end();) {
      auto found = all.find(it->first);
      if (found == all.end() || found->second.start_time != it->second.st.start_time) it = Erase(it);
      else ++it;
    }
    for (const auto& kv : all) {
      if (kv.first == pid_) continue;
      int p = kv.second.ppid;
      for (int depth = 0; depth < 4096 && p > 0; ++depth) {
        if (p == pid_) {
          auto it = members_.find(kv.first);
          if (it == members_.end() || it->second.st.start_time != kv.second.start_time) Add(kv.first, kv.second, now_ns);
          else SetStat(&it->second, kv.second);
          break;
        }
        auto up = all.find(p);
        if (up == all.end()) break;
        p = up->second.ppid;
      }
    }
    Prune();
  }

  std::string proc_;
  int pid_;
  Fd loadavg_;
  uint64_t cursor_ = 0;
  bool have_cursor_ = false;
  bool children_files_ = true;
  uint64_t root_children_ = 0;
  uint64_t round_ = 0;
  bool hold_fds_ = false;
  bool tree_changed_ = false;  // a member left or changed parent since the last Prune
  size_t held_ = 0;
  std::map<int, Member> members_;
  std::vector<Pending> pending_;     // pids handed out, not readable yet (RetryPending)
  std::multimap<int64_t, int> due_;  // members by when a tick re-reads them next
  uint64_t sum_ = 0;                 // Σ own + children over members_
};

}  // namespace let
