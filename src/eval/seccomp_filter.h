// The seccomp-BPF program the sandbox installs last, just before execve: a deny list (the
// program is ordinary Python, so an allow list would break on the first interpreter upgrade).
// Denied system calls kill the whole process (SECCOMP_RET_KILL_PROCESS), which the harness sees as
// SIGSYS and reports as "sandbox-refused": opening a socket, ptrace, mount/namespace/module/key
// management, process_vm_*, and kill() aimed at a group or everyone (pid <= 0), which is how
// a program would take its parent's process group down with it.
#pragma once
#include <linux/filter.h>

#include <vector>

namespace mixq::eval {

// Built before fork (the child must not allocate). Empty on an architecture it does not know.
std::vector<sock_filter> build_seccomp_filter();
// In the child: no_new_privs + the filter. Only raw system calls; returns errno or 0.
int install_seccomp_filter(const std::vector<sock_filter>& prog);

}  // namespace mixq::eval
