// The sandbox holds: hostile programs end with their stated outcome, leave nothing behind on the
// host, and do not disturb the harness or a program running beside them. Each runs as a
// HumanEval-style job (exec the code, then check(f)).
#include "eval/sandbox.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "eval/code_exec.h"

namespace mixq::eval {
namespace {

const std::string kPass = "\ndef f():\n    return 1\n";
const std::string kCheck = "def check(c):\n    assert c() == 1\n";

CodeResult run(const std::string& code, double timeout = 3, int slot = 0, const Sandbox& sb = Sandbox::get()) {
  SandboxLimits sl;
  sl.cpu_seconds = int(timeout) + 3;
  sl.wall_seconds = timeout + 4;
  nlohmann::json job = {{"kind", "humaneval"}, {"code", code}, {"test", kCheck}, {"entry_point", "f"}, {"timeout", timeout}};
  return run_driver_job(job, 1, sl, "/usr/bin/python3", slot, sb);
}

// Processes whose real uid is `uid` (the slot's uid when the tests run as root).
int processes_of_uid(uid_t uid) {
  int n = 0;
  DIR* d = opendir("/proc");
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream st(std::string("/proc/") + e->d_name + "/status");
    std::string line;
    while (std::getline(st, line))
      if (line.rfind("Uid:", 0) == 0) {
        n += std::atoi(line.c_str() + 4) == int(uid);
        break;
      }
  }
  closedir(d);
  return n;
}

TEST(Sandbox, ReportsItsMode) {
  std::string m = Sandbox::get().mode();
  const bool ns = Sandbox::get().namespaces();
  EXPECT_NE(m.find(ns ? "namespaces (user, pid, net" : "namespaces refused"), std::string::npos) << m;
  Sandbox fallback(false);
  EXPECT_FALSE(fallback.namespaces());
  EXPECT_NE(fallback.mode().find("rlimits + seccomp + no_new_privs only"), std::string::npos);
}

TEST(Sandbox, OrdinaryProgramPassesAndAWrongOneFails) {
  EXPECT_EQ(run(kPass).outcome, TestOutcome::Pass);
  EXPECT_EQ(run("\ndef f():\n    return 2\n").outcome, TestOutcome::Fail);
  EXPECT_EQ(run("\ndef f(:\n").outcome, TestOutcome::Fail);  // a syntax error
}

TEST(Sandbox, SocketIsRefused) {
  CodeResult r = run("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n" + kPass);
  EXPECT_EQ(r.outcome, TestOutcome::SandboxRefused) << r.detail;
}

TEST(Sandbox, SixteenGigabyteAllocationIsOutOfMemory) {
  CodeResult r = run("x = bytearray(16 << 30)\n" + kPass);
  EXPECT_EQ(r.outcome, TestOutcome::OutOfMemory) << r.detail;
}

TEST(Sandbox, SleepForeverTimesOutEvenWithTheAlarmIgnored) {
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(run("import time\ntime.sleep(10**9)\n" + kPass, 1).outcome, TestOutcome::Timeout);
  // Ignoring SIGALRM leaves the wall-clock deadline, which kills the process group.
  CodeResult r = run("import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ntime.sleep(10**9)\n" + kPass, 1);
  EXPECT_EQ(r.outcome, TestOutcome::Timeout) << r.detail;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20);
}

TEST(Sandbox, CrashIsCrashed) {
  CodeResult r = run("import ctypes\nctypes.string_at(0)\n" + kPass);
  EXPECT_EQ(r.outcome, TestOutcome::Crashed) << r.detail;
}

TEST(Sandbox, ForkBombTimesOutLeavesNothingAndSparesItsNeighbour) {
  const std::string bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n";
  CodeResult bomb_result, neighbour;
  std::thread t([&] { bomb_result = run(bomb, 2, 1); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  neighbour = run(kPass, 5, 2);  // another slot, while the bomb runs
  t.join();
  EXPECT_EQ(bomb_result.outcome, TestOutcome::Timeout) << bomb_result.detail;
  EXPECT_EQ(neighbour.outcome, TestOutcome::Pass) << neighbour.detail;
  if (geteuid() == 0) {
    EXPECT_EQ(processes_of_uid(Sandbox::slot_uid(1)), 0);
  }
}

TEST(Sandbox, WritesOutsideTheWorkingDirectoryDoNotReachTheHost) {
  const std::string tag = std::to_string(getpid());
  // System directories: refused (no capabilities, host files owned by an unmapped uid).
  CodeResult r = run("open('/etc/mixq-escape-" + tag + "', 'w').write('x')\n" + kPass);
  EXPECT_EQ(r.outcome, TestOutcome::Fail) << r.detail;
  EXPECT_FALSE(std::ifstream("/etc/mixq-escape-" + tag).good());
  // /tmp and the parent directory: a private tmpfs in the namespace, so the program passes and
  // the host's /tmp never sees the files.
  r = run("open('/tmp/mixq-escape-" + tag + "', 'w').write('x')\nopen('../mixq-escape2-" + tag + "', 'w').write('x')\n" + kPass);
  if (Sandbox::get().namespaces()) {
    EXPECT_EQ(r.outcome, TestOutcome::Pass) << r.detail;
    EXPECT_FALSE(std::ifstream("/tmp/mixq-escape-" + tag).good());
    EXPECT_FALSE(std::ifstream("/tmp/mixq-escape2-" + tag).good());
  }
  std::remove(("/tmp/mixq-escape-" + tag).c_str());
  std::remove(("/tmp/mixq-escape2-" + tag).c_str());
}

TEST(Sandbox, CannotReadTheUsersHome) {
  const char* home = std::getenv("HOME");
  if (!home || !*home) GTEST_SKIP() << "no HOME";
  const std::string secret = std::string(home) + "/.mixq-sandbox-secret-" + std::to_string(getpid());
  { std::ofstream(secret) << "hunter2-" << getpid(); }
  CodeResult r = run("print(open(" + nlohmann::json(secret).dump() + ").read())\n" + kPass);
  std::remove(secret.c_str());
  EXPECT_EQ(r.outcome, TestOutcome::Fail) << r.detail;  // FileNotFoundError (hidden) or PermissionError
  EXPECT_EQ(r.detail.find("hunter2"), std::string::npos);
}

TEST(Sandbox, KillingTheParentOrEveryoneDoesNotReachTheHarness) {
  // kill(-1) and kill(0) (everyone, its own group): refused by the seccomp filter.
  EXPECT_EQ(run("import os\nos.kill(-1, 9)\n" + kPass).outcome, TestOutcome::SandboxRefused);
  EXPECT_EQ(run("import os\nos.kill(0, 9)\n" + kPass).outcome, TestOutcome::SandboxRefused);
  // Its parent: in namespace mode the namespace's init, which ignores signals from inside; in
  // the fallback a root-owned process (EPERM). Either way the program carries on or fails, and
  // the harness is untouched.
  CodeResult r = run("import os\ntry:\n    os.kill(os.getppid(), 9)\nexcept OSError:\n    pass\n" + kPass);
  EXPECT_EQ(r.outcome, TestOutcome::Pass) << r.detail;
  EXPECT_EQ(kill(getpid(), 0), 0);
}

TEST(Sandbox, NoNetworkEvenBeforeSeccomp) {
  if (!Sandbox::get().namespaces()) GTEST_SKIP() << "namespaces refused here";
  // The namespace's network: only a loopback that is down.
  CodeResult r = run("rows = open('/proc/self/net/dev').read().splitlines()[2:]\n"
                     "names = sorted(r.split(':')[0].strip() for r in rows)\nassert names == ['lo'], names\n" + kPass);
  EXPECT_EQ(r.outcome, TestOutcome::Pass) << r.detail;
}

TEST(Sandbox, FallbackStillAppliesRlimitsAndSeccomp) {
  Sandbox fallback(false);
  EXPECT_EQ(run("x = bytearray(16 << 30)\n" + kPass, 3, 3, fallback).outcome, TestOutcome::OutOfMemory);
  EXPECT_EQ(run("import socket\nsocket.socket()\n" + kPass, 3, 3, fallback).outcome, TestOutcome::SandboxRefused);
  EXPECT_EQ(run("import time\ntime.sleep(10**9)\n" + kPass, 1, 3, fallback).outcome, TestOutcome::Timeout);
  EXPECT_EQ(run(kPass, 3, 3, fallback).outcome, TestOutcome::Pass);
}

}  // namespace
}  // namespace mixq::eval
