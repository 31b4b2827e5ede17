#include "eval/seccomp_filter.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>

namespace mixq::eval {

namespace {

#if defined(__x86_64__)
constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#else
constexpr unsigned kArch = 0;
#endif

sock_filter stmt(unsigned short code, unsigned k) { return BPF_STMT(code, k); }
sock_filter jump(unsigned short code, unsigned k, unsigned char jt, unsigned char jf) {
  return BPF_JUMP(code, k, jt, jf);
}

}  // namespace

std::vector<sock_filter> build_seccomp_filter() {
  if (kArch == 0) return {};
  const int denied[] = {
    __NR_socket, __NR_ptrace, __NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot, __NR_unshare, __NR_setns,
    __NR_kexec_load, __NR_reboot, __NR_bpf, __NR_perf_event_open, __NR_keyctl, __NR_add_key, __NR_request_key,
    __NR_init_module, __NR_finit_module, __NR_delete_module, __NR_swapon, __NR_swapoff, __NR_process_vm_readv,
    __NR_process_vm_writev, __NR_open_by_handle_at, __NR_userfaultfd, __NR_io_uring_setup,
  };
  std::vector<sock_filter> p;
  const unsigned kill = SECCOMP_RET_KILL_PROCESS, allow = SECCOMP_RET_ALLOW;
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0));
  p.push_back(stmt(BPF_RET | BPF_K, kill));
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
#if defined(__x86_64__)
  // x32 system calls (bit 30) would bypass the numbers below.
  p.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kill));
#endif
  for (int nr : denied) {
    p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, unsigned(nr), 0, 1));
    p.push_back(stmt(BPF_RET | BPF_K, kill));
  }
  // kill(pid, sig): pid <= 0 (its group, everyone, another group) is refused; a positive pid
  // can only reach the program's own processes (uid and pid namespace).
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, unsigned(__NR_kill), 0, 4));
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));  // low 32 bits (little endian)
  p.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, 0x80000000u, 1, 0));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kill));
  p.push_back(stmt(BPF_RET | BPF_K, allow));
  return p;
}

int install_seccomp_filter(const std::vector<sock_filter>& prog) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (prog.empty()) return 0;
  sock_fprog fp{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) != 0) return errno;
  return 0;
}

}  // namespace mixq::eval
