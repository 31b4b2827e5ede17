#include "eval/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

#include "eval/seccomp_filter.h"

namespace mixq::eval {

namespace {

constexpr int kNsFlags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;

// Everything the child needs, prepared before fork: after fork in a multi-threaded process only
// async-signal-safe calls are allowed, so the child never allocates, and it changes ids with raw
// system calls (glibc's setresuid signals every thread it knows of, which the child does not have).
struct ChildPlan {
  std::vector<std::string> argv_store;
  std::vector<char*> argv;
  char* envp[1] = {nullptr};
  std::vector<sock_filter> filter;
  std::string tmpfs_opts, workdir;
  SandboxLimits lim;
  bool ns = false, drop_uid = false, drop_groups = false;
  uid_t uid = 0;
  int sync_rd = -1, err_wr = -1, status_wr = -1, in_rd = -1, res_wr = -1, out_wr = -1;
};

// Child-side error report: a step name and errno, written with write(2) only.
[[noreturn]] void child_fail(int fd, const char* step, int err) {
  char buf[160];
  size_t n = 0;
  for (const char* s = step; *s && n < 100; ++s) buf[n++] = *s;
  const char* sep = ": ";
  for (const char* s = sep; *s; ++s) buf[n++] = *s;
  const char* e = strerrordesc_np(err);
  for (const char* s = e ? e : "error"; *s && n < sizeof buf - 1; ++s) buf[n++] = *s;
  if (write(fd, buf, n) < 0) {}
  _exit(127);
}

// Closes every descriptor but the child's own pipe ends. Another worker thread may have created
// its sandbox's pipes just before this fork: holding their write ends would keep that sandbox's
// reader from seeing EOF until this one ends (CLOEXEC does not help: the init never execs).
void close_all_but(const ChildPlan& p) {
  int keep[6] = {p.sync_rd, p.err_wr, p.status_wr, p.in_rd, p.res_wr, p.out_wr};
  std::sort(keep, keep + 6);
  unsigned from = 3;
  for (int k : keep) {
    if (k < int(from)) continue;
    if (unsigned(k) > from) syscall(SYS_close_range, from, unsigned(k) - 1, 0);
    from = unsigned(k) + 1;
  }
  syscall(SYS_close_range, from, ~0u, 0);
}

void set_limit(int fd, int res, rlim_t soft, rlim_t hard, const char* what) {
  rlimit r{soft, hard};
  if (setrlimit(res, &r) != 0) child_fail(fd, what, errno);
}

void drop_capabilities() {
  for (int c = 0; c < 64; ++c) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  syscall(SYS_capset, &hdr, data);
}

// The program (pid 2 in the namespace, or the init's child in the fallback).
[[noreturn]] void exec_program(const ChildPlan& p) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (p.drop_uid) {
    if (syscall(SYS_setgroups, 0, nullptr) != 0) child_fail(p.err_wr, "setgroups", errno);
    if (syscall(SYS_setresgid, p.uid, p.uid, p.uid) != 0) child_fail(p.err_wr, "setresgid", errno);
    if (syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) child_fail(p.err_wr, "setresuid", errno);
  }
  if (chdir(p.workdir.c_str()) != 0) child_fail(p.err_wr, "chdir to the working directory", errno);
  set_limit(p.err_wr, RLIMIT_AS, p.lim.address_space, p.lim.address_space, "RLIMIT_AS");
  set_limit(p.err_wr, RLIMIT_DATA, p.lim.address_space, p.lim.address_space, "RLIMIT_DATA");
  set_limit(p.err_wr, RLIMIT_CPU, rlim_t(p.lim.cpu_seconds), rlim_t(p.lim.cpu_seconds + 1), "RLIMIT_CPU");
  set_limit(p.err_wr, RLIMIT_NPROC, rlim_t(p.lim.max_processes), rlim_t(p.lim.max_processes), "RLIMIT_NPROC");
  set_limit(p.err_wr, RLIMIT_FSIZE, p.lim.file_size, p.lim.file_size, "RLIMIT_FSIZE");
  set_limit(p.err_wr, RLIMIT_NOFILE, rlim_t(p.lim.open_files), rlim_t(p.lim.open_files), "RLIMIT_NOFILE");
  set_limit(p.err_wr, RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
  drop_capabilities();
  if (dup2(p.in_rd, 0) < 0 || dup2(p.out_wr, 1) < 0 || dup2(p.out_wr, 2) < 0 || dup2(p.res_wr, 3) < 0)
    child_fail(p.err_wr, "dup2", errno);
  if (int e = install_seccomp_filter(p.filter)) child_fail(p.err_wr, "seccomp", e);
  execve(p.argv[0], p.argv.data(), const_cast<char* const*>(p.envp));
  child_fail(p.err_wr, "execve", errno);
}

void mount_private_tmpfs(const ChildPlan& p, const char* where, bool required) {
  if (mount("mixq-sandbox", where, "tmpfs", MS_NOSUID | MS_NODEV, p.tmpfs_opts.c_str()) != 0 && required)
    child_fail(p.err_wr, where, errno);
}

// The first process of the sandbox: in namespace mode pid 1 of the new pid namespace (its exit
// kills everything in it). Sets up the mounts, starts the program, reports how it ended on the
// status pipe as two ints (0 = exit code, 1 = signal).
[[noreturn]] void child_init(const ChildPlan& p) {
  setsid();  // its own process group: the harness kills -pgid
  close_all_but(p);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (p.ns) {
    char go;
    if (read(p.sync_rd, &go, 1) != 1 || go != 'g') child_fail(p.err_wr, "waiting for the uid map", errno);
    // Become the mapped root of the namespace (the creds still hold the harness's uid until
    // then), with no supplementary groups of the harness left (a privileged parent left
    // setgroups allowed for this).
    if (p.drop_groups && syscall(SYS_setgroups, 0, nullptr) != 0) child_fail(p.err_wr, "setgroups", errno);
    if (syscall(SYS_setresgid, 0, 0, 0) != 0) child_fail(p.err_wr, "setresgid in the namespace", errno);
    if (syscall(SYS_setresuid, 0, 0, 0) != 0) child_fail(p.err_wr, "setresuid in the namespace", errno);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(p.err_wr, "mount private", errno);
    mount_private_tmpfs(p, "/tmp", true);
    for (const char* d : {"/var/tmp", "/dev/shm", "/run/lock", "/root", "/home"}) mount_private_tmpfs(p, d, false);
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);  // our pids only (best effort)
    if (mkdir(p.workdir.c_str(), 0700) != 0) child_fail(p.err_wr, "mkdir working directory", errno);
  }
  // Raw clone, not fork(): the harness is multi-threaded and this process may have been made by
  // a raw clone, so glibc's fork (which takes malloc's and other locks that another thread may
  // have held at clone time) could deadlock here.
  pid_t prog = pid_t(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (prog < 0) child_fail(p.err_wr, "fork", errno);
  if (prog == 0) exec_program(p);
  close(p.in_rd);
  close(p.res_wr);
  close(p.out_wr);
  drop_capabilities();
  int st = 0;
  while (waitpid(prog, &st, 0) < 0 && errno == EINTR) {}
  int msg[2] = {WIFSIGNALED(st) ? 1 : 0, WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st)};
  if (write(p.status_wr, msg, sizeof msg) < 0) {}
  _exit(0);
}

bool write_proc(pid_t pid, const char* file, const std::string& text) {
  std::string path = fmt::format("/proc/{}/{}", pid, file);
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size());
  close(fd);
  return ok;
}

struct Pipe {
  int rd = -1, wr = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("sandbox: pipe: ") + std::strerror(errno));
    rd = fds[0];
    wr = fds[1];
  }
  ~Pipe() { close_rd(); close_wr(); }
  void close_rd() { if (rd >= 0) close(rd); rd = -1; }
  void close_wr() { if (wr >= 0) close(wr); wr = -1; }
};

// Fallback clean-up when the harness is root: a helper with the slot's uid sends SIGKILL to every
// process of that uid, which catches programs that left the process group (setsid).
void kill_uid(uid_t uid) {
  pid_t h = fork();
  if (h == 0) {
    if (setresuid(uid, uid, uid) == 0) kill(-1, SIGKILL);
    _exit(0);
  }
  if (h > 0) waitpid(h, nullptr, 0);
}

}  // namespace

unsigned Sandbox::slot_uid(int slot) {
  return 0x10000000u + (unsigned(getpid()) << 8) + unsigned(slot & 255);
}

Sandbox& Sandbox::get() {
  static Sandbox s([] {
    const char* force = std::getenv("MIXQ_SANDBOX_NO_NAMESPACES");
    return !(force && *force && std::string(force) != "0");
  }());
  return s;
}

Sandbox::Sandbox(bool try_namespaces) {
  if (!try_namespaces) {
    refused_ = "MIXQ_SANDBOX_NO_NAMESPACES is set";
    return;
  }
  // A trivial child in every namespace the real runs use.
  pid_t pid = pid_t(syscall(SYS_clone, SIGCHLD | kNsFlags, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) {
    refused_ = fmt::format("clone with new user/pid/net/mount namespaces: {}", std::strerror(errno));
    return;
  }
  if (pid == 0) _exit(0);
  int st = 0;
  waitpid(pid, &st, 0);
  namespaces_ = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  if (!namespaces_) refused_ = "the namespace probe child failed";
}

std::string Sandbox::mode() const {
  if (namespaces_) return "namespaces (user, pid, net, mount, ipc, uts) + seccomp + rlimits + no_new_privs";
  return "rlimits + seccomp + no_new_privs only: namespaces refused (" + refused_ + ")";
}

SandboxResult Sandbox::run(const std::vector<std::string>& argv, const std::string& stdin_data,
                           const SandboxLimits& lim, int slot) const {
  SandboxResult r;
  const bool root = geteuid() == 0;
  ChildPlan p;
  p.argv_store = argv;
  for (auto& a : p.argv_store) p.argv.push_back(a.data());
  p.argv.push_back(nullptr);
  p.filter = build_seccomp_filter();
  p.tmpfs_opts = fmt::format("size={},mode=1777", lim.tmpfs_bytes);
  p.lim = lim;
  p.ns = namespaces_;
  p.uid = root ? uid_t(slot_uid(slot)) : getuid();
  p.drop_groups = root;
  std::string tempdir;
  if (p.ns) {
    p.workdir = "/tmp/work";
  } else {
    // Fallback: a fresh private directory owned by the slot's uid, removed afterwards.
    char tmpl[] = "/tmp/mixq-sandbox-XXXXXX";
    if (!mkdtemp(tmpl)) {
      r.setup_error = std::string("mkdtemp: ") + std::strerror(errno);
      return r;
    }
    tempdir = p.workdir = tmpl;
    if (root && chown(tmpl, p.uid, p.uid) != 0) {}
    p.drop_uid = root;
  }
  Pipe sync, err, status, in, res, out;
  p.sync_rd = sync.rd;
  p.err_wr = err.wr;
  p.status_wr = status.wr;
  p.in_rd = in.rd;
  p.res_wr = res.wr;
  p.out_wr = out.wr;
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = p.ns ? pid_t(syscall(SYS_clone, SIGCHLD | kNsFlags, nullptr, nullptr, nullptr, nullptr)) : fork();
  if (pid < 0) {
    r.setup_error = std::string(p.ns ? "clone" : "fork") + ": " + std::strerror(errno);
    if (!tempdir.empty()) std::filesystem::remove_all(tempdir);
    return r;
  }
  if (pid == 0) child_init(p);
  sync.close_rd();
  err.close_wr();
  status.close_wr();
  in.close_rd();
  res.close_wr();
  out.close_wr();
  if (p.ns) {
    const std::string map = fmt::format("0 {} 1\n", p.uid);
    // An unprivileged parent must deny setgroups before it may write gid_map.
    bool ok = (root || write_proc(pid, "setgroups", "deny")) && write_proc(pid, "uid_map", map) &&
              write_proc(pid, "gid_map", map);
    if (!ok) r.setup_error = std::string("writing the user namespace map: ") + std::strerror(errno);
    if (write(sync.wr, ok ? "g" : "x", 1) < 0) {}
    if (!ok) kill(pid, SIGKILL);
  }
  sync.close_wr();

  // Feed stdin and drain the pipes until they all close or the wall-clock deadline passes.
  fcntl(in.wr, F_SETFL, O_NONBLOCK);
  size_t in_off = 0;
  if (stdin_data.empty()) in.close_wr();
  std::string status_buf, err_buf;
  const auto deadline = t0 + std::chrono::duration<double>(lim.wall_seconds);
  bool killed = false;
  auto kill_all = [&] {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    if (!p.ns && root) kill_uid(p.uid);
  };
  std::chrono::steady_clock::time_point drain_until{};
  while (res.rd >= 0 || out.rd >= 0 || status.rd >= 0 || err.rd >= 0) {
    auto now = std::chrono::steady_clock::now();
    if (!killed && now >= deadline) {
      killed = true;
      kill_all();
      drain_until = now + std::chrono::seconds(2);
    }
    if (killed && now >= drain_until) break;  // a straggler still holds a pipe: stop listening
    pollfd fds[5];
    int n = 0;
    int* owners[5];
    auto add = [&](int& fd, short ev) {
      if (fd >= 0) { fds[n] = {fd, ev, 0}; owners[n++] = &fd; }
    };
    add(in.wr, POLLOUT);
    add(res.rd, POLLIN);
    add(out.rd, POLLIN);
    add(status.rd, POLLIN);
    add(err.rd, POLLIN);
    auto until = killed ? drain_until : deadline;
    int wait_ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()) + 1;
    if (poll(fds, nfds_t(n), wait_ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      int& fd = *owners[i];
      if (&fd == &in.wr) {
        if (fds[i].revents & (POLLERR | POLLHUP)) { in.close_wr(); continue; }
        ssize_t w = write(fd, stdin_data.data() + in_off, stdin_data.size() - in_off);
        if (w > 0) in_off += size_t(w);
        if ((w < 0 && errno != EAGAIN) || in_off == stdin_data.size()) in.close_wr();
        continue;
      }
      char buf[65536];
      ssize_t got = read(fd, buf, sizeof buf);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        close(fd);
        fd = -1;
        continue;
      }
      std::string* dst = &fd == &res.rd ? &r.results : &fd == &out.rd ? &r.output : &fd == &status.rd ? &status_buf : &err_buf;
      size_t cap = &fd == &out.rd ? 4096 : (64u << 20);
      if (dst->size() < cap) dst->append(buf, std::min(size_t(got), cap - dst->size()));
    }
  }
  if (!killed) kill_all();  // nothing may outlive its item (a daemonised child in the fallback)
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!tempdir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(tempdir, ec);
  }
  if (!err_buf.empty() || !r.setup_error.empty()) {
    r.end = SandboxResult::End::SetupFailed;
    if (r.setup_error.empty()) r.setup_error = err_buf;
    return r;
  }
  if (killed) {
    r.end = SandboxResult::End::WallTimeout;
    return r;
  }
  if (status_buf.size() == 2 * sizeof(int)) {
    int msg[2];
    std::memcpy(msg, status_buf.data(), sizeof msg);
    r.end = msg[0] ? SandboxResult::End::Signaled : SandboxResult::End::Exited;
    (msg[0] ? r.signal : r.exit_code) = msg[1];
  } else {
    // The init itself was killed (e.g. by the program's kill(parent)): its own status tells.
    r.end = SandboxResult::End::Signaled;
    r.signal = WIFSIGNALED(st) ? WTERMSIG(st) : SIGKILL;
  }
  return r;
}

}  // namespace mixq::eval
