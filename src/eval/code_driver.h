// The Python program that runs inside the sandbox for HumanEval and MBPP+: it reads one JSON job
// on stdin, runs the tests with per-test time limits (SIGALRM timers, as human-eval and evalplus
// do) and writes one JSON line per test on fd 3 ({"t": index, "s": pass|fail|timeout|oom, "d":
// detail}) then {"done": true}. The sandbox's rlimits and wall-clock deadline are the outer
// guard for what the timers cannot stop (C code, a swallowed exception, a crash).
#pragma once
#include <string>

namespace mixq::eval {

const std::string& code_driver_source();

}  // namespace mixq::eval
