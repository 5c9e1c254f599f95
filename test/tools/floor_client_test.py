#!/usr/bin/env python3
"""ctest bench_floor_client: scripts/bench/floor_client.c (bench part 2's floor) counts what llmd-bench counts.

Compiles the floor client, starts `llmd-bench sim` on loopback and checks that the floor reads every
stream to its end: 20 streams of 3 tokens are 20 completed, 0 failed and 20 x (3 + 2) "data:" events
(the tokens, the usage chunk and [DONE]: summarize.py's sse_events), one recv() or more per event's
packet. A dead port fails every stream (exit 1), so does a server that closes each stream after one
event (the close comes with the data, and the floor's sockets are edge-triggered: it must still see it
rather than wait forever), and bad arguments exit 2, so the bench cannot print a floor for streams it
did not read.
Usage: floor_client_test.py LLMD_BENCH FLOOR_CLIENT_C [CC]
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN, SOURCE = sys.argv[1], sys.argv[2]
CC = sys.argv[3] if len(sys.argv) > 3 else "cc"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    floor = tmp / "floor_client"
    subprocess.run([CC, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(floor), SOURCE], check=True)
    sim_out = open(tmp / "sim.json", "w")
    sim = subprocess.Popen([BIN, "sim", "--pods", "1", "--inter-token-ms", "5", "--prefill-base-ms", "1"],
                           stdout=sim_out, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if (tmp / "sim.json").stat().st_size > 0:
                break
            time.sleep(0.1)
        info = json.loads((tmp / "sim.json").read_text())
        url = info["pods"][0]["url"]
        port = url.rsplit(":", 1)[1]
        body = tmp / "body.json"
        body.write_text(json.dumps({"model": info["model"], "prompt": "hold this stream open", "max_tokens": 3,
                                    "stream": True, "stream_options": {"include_usage": True}}))
        for pause in ("0", "2000"):
            run = subprocess.run([str(floor), "127.0.0.1", port, "/v1/completions", str(body), "20", "200", pause],
                                 capture_output=True, text=True, timeout=30)
            check(run.returncode == 0, f"pause {pause}: exit {run.returncode}, stderr {run.stderr!r}")
            doc = json.loads(run.stdout)
            check(doc["completed"] == 20 and doc["failed"] == 0, f"pause {pause}: {doc}")
            check(doc["events"] == 20 * (3 + 2), f"pause {pause}: events {doc['events']}, want 100")
            check(doc["recv_calls"] >= 20 and doc["waits"] > 0, f"pause {pause}: {doc}")
            check(doc["user_s"] >= 0 and doc["sys_s"] >= 0 and doc["user_s"] + doc["sys_s"] > 0, f"pause {pause}: {doc}")
    finally:
        sim.terminate()
        sim.wait(timeout=30)
        sim_out.close()

    # A port nobody listens on: every stream fails, exit 1, and it says so in its JSON.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead_port = str(probe.getsockname()[1])
    probe.close()
    run = subprocess.run([str(floor), "127.0.0.1", dead_port, "/v1/completions", str(body), "3", "100"],
                         capture_output=True, text=True, timeout=60)
    check(run.returncode == 1, f"dead port: exit {run.returncode}")
    doc = json.loads(run.stdout)
    check(doc["completed"] == 0 and doc["failed"] == 3, f"dead port: {doc}")

    # A server that sends one event of each stream and closes at once: every stream fails, exit 1.
    cutter = socket.socket()
    cutter.bind(("127.0.0.1", 0))
    cutter.listen(64)

    def cut_streams():
        while True:
            try:
                conn, _ = cutter.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\ndata: x\n\r\n")

    threading.Thread(target=cut_streams, daemon=True).start()
    try:
        run = subprocess.run([str(floor), "127.0.0.1", str(cutter.getsockname()[1]), "/v1/completions", str(body),
                              "20", "200", "2000"], capture_output=True, text=True, timeout=30)
        check(run.returncode == 1, f"cut streams: exit {run.returncode}")
        doc = json.loads(run.stdout)
        check(doc["completed"] == 0 and doc["failed"] == 20 and doc["events"] == 20, f"cut streams: {doc}")
    except subprocess.TimeoutExpired:
        check(False, "cut streams: the floor never saw the server's closes (still running after 30 s)")
    finally:
        cutter.close()

    for args, what in ((["127.0.0.1", "1", "/", str(body), "0", "1"], "0 streams"),
                       (["localhost", "1", "/", str(body), "1", "1"], "a host name"),
                       (["127.0.0.1", "1", "/", str(tmp / "missing.json"), "1", "1"], "a missing body file"),
                       (["127.0.0.1"], "too few arguments")):
        run = subprocess.run([str(floor)] + args, capture_output=True, text=True, timeout=60)
        check(run.returncode == 2 and run.stderr, f"{what}: exit {run.returncode}, stderr {run.stderr!r}")

for failure in failures:
    print("FAIL:", failure)
print(f"floor_client_test: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
