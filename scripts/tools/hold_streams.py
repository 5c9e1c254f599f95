#!/usr/bin/env python3
"""Opens N concurrent streaming completions against a gateway and holds them open, to measure how
many concurrent streams one `llmd-bench sim` process holds and its memory. Loopback only.

usage: hold_streams.py URL[,URL...] N SIM_PID [max_tokens]   (several URLs: streams spread over them)
Prints: streams opened, streams that saw their first event, errors, and the sim's RSS while all
streams were open (from /proc/PID/status).
"""
import asyncio, json, resource, sys, time
from urllib.parse import urlparse

async def one(host, port, body, first_event, done, errors):
    try:
        reader, writer = await asyncio.open_connection(host, port)
        req = (f"POST /v1/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        writer.write(req)
        await writer.drain()
        seen = False
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            if not seen and b"data: " in chunk:
                seen = True
                first_event.append(time.monotonic())
            if b"[DONE]" in chunk:
                done.append(1)
                break
        writer.close()
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1

async def main():
    url, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    max_tokens = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    targets = [urlparse(x) for x in url.split(",")]
    body = json.dumps({"prompt": "hold this stream open", "max_tokens": max_tokens, "stream": True}).encode()
    first, done, errors = [], [], []
    base_rss = rss_kib(pid)
    t0 = time.monotonic()
    tasks = []
    for i in range(n):
        u = targets[i % len(targets)]
        tasks.append(asyncio.create_task(one(u.hostname, u.port, body, first, done, errors)))
        if i % 500 == 499:
            await asyncio.sleep(0.05)
    # wait until every stream has its first event (all open at once), then sample memory
    while len(first) + len(errors) < n and time.monotonic() - t0 < 120:
        await asyncio.sleep(0.2)
    open_at_once = len(first) - len(done)
    peak_rss = rss_kib(pid)
    print(json.dumps({"requested": n, "first_event": len(first), "open_when_sampled": open_at_once,
                      "errors": len(errors), "sample_errors": errors[:3], "sim_rss_kib_idle": base_rss,
                      "sim_rss_kib_with_streams": peak_rss,
                      "rss_per_stream_kib": round((peak_rss - base_rss) / max(open_at_once, 1), 2),
                      "seconds_to_open": round(time.monotonic() - t0, 2)}))
    await asyncio.gather(*tasks)
    print(json.dumps({"completed_with_done": len(done), "errors": len(errors)}))

asyncio.run(main())
