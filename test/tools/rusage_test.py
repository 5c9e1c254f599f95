#!/usr/bin/env python3
"""ctest bench_rusage: scripts/bench/rusage.c (how scripts/bench.sh times every process) measures what it says.

Compiles it and checks: a child that spins 0.3 s of user CPU and prints its own getrusage at its end is
reported with that user and system time (to within 50 ms, what exiting adds) in microseconds, not GNU
time's 10 ms steps; a sleeping child shows its wall
time and almost no CPU; a child touching 64 MiB shows a max RSS of at least that; the child's stdout
passes through; its exit status is passed on (3 as 3, SIGTERM as 143, a missing program as 127) and a
missing argument is exit 2. A wrong figure here would be a wrong ratio in every bench table.
Usage: rusage_test.py RUSAGE_C [CC]
"""
import os
import subprocess
import sys
import tempfile

SOURCE = sys.argv[1]
CC = sys.argv[2] if len(sys.argv) > 2 else "cc"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


with tempfile.TemporaryDirectory() as work:
    tool = os.path.join(work, "rusage")
    subprocess.run([CC, "-O2", "-Wall", "-Wextra", "-Werror", "-o", tool, SOURCE], check=True)
    out = os.path.join(work, "t.time")

    def run(*argv):
        if os.path.exists(out):
            os.remove(out)
        proc = subprocess.run([tool, out, *argv], capture_output=True, text=True)
        fields = open(out).read().split() if os.path.exists(out) else []
        return proc, fields

    # The child spins in user space and reads its own figures at the end: what rusage reports must be
    # those. (Asserting "user above system" failed under load: Python's start-up page faults alone cost
    # ~0.2 s of system time on a VM with shadowed page tables, as much as a spin of process_time() calls.)
    spin = ("import resource\n"
            "def user(): return resource.getrusage(resource.RUSAGE_SELF).ru_utime\n"
            "while user() < 0.3:\n"
            "    for i in range(20000): pass\n"
            "r = resource.getrusage(resource.RUSAGE_SELF)\n"
            "print(r.ru_utime, r.ru_stime)")
    proc, fields = run(sys.executable, "-c", spin)
    own = proc.stdout.split()
    check(proc.returncode == 0 and len(own) == 2, f"spin: rc {proc.returncode}, stdout {proc.stdout!r}")
    check(len(fields) == 4, f"spin: fields {fields}")
    if len(fields) == 4 and len(own) == 2:
        wall, user, system, rss = float(fields[0]), float(fields[1]), float(fields[2]), int(fields[3])
        own_user, own_system = float(own[0]), float(own[1])
        check(own_user >= 0.3, f"spin: the child's own user time {own_user}")
        check(own_user - 1e-3 <= user <= own_user + 0.05, f"spin: user {user}, the child saw {own_user}")
        check(own_system - 1e-3 <= system <= own_system + 0.05, f"spin: system {system}, the child saw {own_system}")
        check(wall >= user + system - 0.05, f"spin: wall {wall} below its CPU {user + system}")
        check(all(len(f.split(".")[1]) == 6 for f in fields[:3]), f"spin: not microseconds: {fields}")
        check(rss > 1000, f"spin: max RSS {rss} KiB")

    proc, fields = run("sleep", "0.3")
    check(proc.returncode == 0 and len(fields) == 4, f"sleep: rc {proc.returncode}, fields {fields}")
    if len(fields) == 4:
        check(0.29 <= float(fields[0]) <= 3.0, f"sleep: wall {fields[0]}")
        check(float(fields[1]) + float(fields[2]) < 0.1, f"sleep: CPU {fields[1]} + {fields[2]}")

    touch = "b = bytearray(64 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1"
    proc, fields = run(sys.executable, "-c", touch)
    check(proc.returncode == 0 and len(fields) == 4 and int(fields[3]) >= 64 * 1024,
          f"64 MiB: rc {proc.returncode}, fields {fields}")

    proc, fields = run("sh", "-c", "exit 3")
    check(proc.returncode == 3 and len(fields) == 4, f"exit 3: rc {proc.returncode}, fields {fields}")
    proc, fields = run("sh", "-c", "kill -TERM $$")
    check(proc.returncode == 143, f"SIGTERM: rc {proc.returncode}")
    proc, fields = run(os.path.join(work, "no-such-program"))
    check(proc.returncode == 127 and "cannot run" in proc.stderr, f"missing program: rc {proc.returncode}, {proc.stderr!r}")
    proc = subprocess.run([tool, out], capture_output=True, text=True)
    check(proc.returncode == 2 and "usage" in proc.stderr, f"no command: rc {proc.returncode}")

for failure in failures:
    print("FAIL:", failure)
print(f"rusage_test: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
