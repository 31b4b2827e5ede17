// Runs one untrusted program (a model's Python code) per call, isolated from the machine:
//  - new user, pid, net, mount, ipc and uts namespaces (clone flags), the user namespace mapping
//    root inside to an unprivileged uid outside (slot_uid(): one per harness process and slot when
//    the harness is root, so that RLIMIT_NPROC counts per slot and one fork bomb cannot starve its
//    neighbours, nor a clean-up in one harness touch another's programs); a new net
//    namespace has only a downed loopback, so no network;
//  - a private tmpfs over /tmp, /var/tmp, /dev/shm, /run/lock (the host's world-writable
//    directories) and over /root and /home (the user's home), the working directory inside it;
//  - every capability dropped, no_new_privs, a seccomp filter (seccomp_filter.h) that kills the
//    process on socket, ptrace, mount, kill(-1/0/-pgid) and the like;
//  - rlimits on address space, CPU time, processes, file size, open files, core = 0;
//  - an empty environment; the parent keeps a wall-clock deadline and kills the process group,
//    and the namespace's init dying takes every process in it along.
// Where the kernel refuses namespaces (containers, hardened sysctls), the same rlimits, seccomp and
// no_new_privs apply without them and `mode()` says so: never a silent fail-open.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mixq::eval {

struct SandboxLimits {
  uint64_t address_space = 4ull << 30;  // evalplus: min(4 GiB, RAM)
  int cpu_seconds = 20;                 // soft limit (SIGXCPU), hard = soft + 1 (SIGKILL)
  int max_processes = 32;
  uint64_t file_size = 16ull << 20;
  int open_files = 64;
  double wall_seconds = 30;
  uint64_t tmpfs_bytes = 64ull << 20;
};

struct SandboxResult {
  enum class End { Exited, Signaled, WallTimeout, SetupFailed };
  End end = End::SetupFailed;
  int exit_code = -1, signal = 0;
  std::string results;  // what the program wrote on fd 3
  std::string output;   // stdout + stderr, first 4 KiB
  std::string setup_error;
  double wall_seconds = 0;
};

class Sandbox {
 public:
  // Probes once (a trivial child in new namespaces); MIXQ_SANDBOX_NO_NAMESPACES=1 forces the
  // fallback (tests of the fallback path and its reporting).
  static Sandbox& get();
  // A sandbox that may (or may not) try namespaces: tests of the fallback path.
  explicit Sandbox(bool try_namespaces);
  bool namespaces() const { return namespaces_; }
  // The outside uid of a slot's programs when the harness is root: 0x10000000 + pid * 256 +
  // slot % 256, unused by any account and unique per running harness.
  static unsigned slot_uid(int slot);
  // "namespaces (user, pid, net, mount, ipc) + seccomp + rlimits + no_new_privs", or
  // "rlimits + seccomp + no_new_privs only: namespaces refused (<reason>)".
  std::string mode() const;
  // argv[0] is an absolute path. `stdin_data` is written to the program's stdin; fd 3 is a pipe
  // whose content comes back in `results`. `slot` < 1000 picks the outside uid (see above).
  SandboxResult run(const std::vector<std::string>& argv, const std::string& stdin_data, const SandboxLimits& lim,
                    int slot) const;

 private:
  bool namespaces_ = false;
  std::string refused_;
};

}  // namespace mixq::eval
