#!/usr/bin/env python3
"""Summarizes the raw outputs of scripts/bench.sh: prints a table and writes bench-results.json.
usage: summarize.py WORK_DIR MANIFEST OUT_JSON
Each manifest line names a measurement; NAME.out / NAME.err / NAME.time (from scripts/bench/rusage.c,
GNU time's "%e %U %S %M" in microseconds: wall s, user s, sys s, max RSS KiB) sit in WORK_DIR."""
import json, os, re, statistics, sys

work, manifest_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
manifest = [json.loads(line) for line in open(manifest_path) if line.strip()]


def read(name, ext):
    path = os.path.join(work, f"{name}.{ext}")
    return open(path, encoding="utf-8", errors="replace").read() if os.path.exists(path) else ""


def usage(name):
    fields = read(name, "time").strip().splitlines()
    wall_ns = read(name, "wall_ns").strip()  # date +%s%N around the process: finer than %e's 10 ms
    try:
        wall, user, system, rss = fields[-1].split()
        wall_s = int(wall_ns) / 1e9 if wall_ns else float(wall)
        return {"wall_s": wall_s, "cpu_s": float(user) + float(system), "rss_kib": int(rss)}
    except (IndexError, ValueError):
        return {"wall_s": None, "cpu_s": None, "rss_kib": None}


def number(pattern, text, cast=float):
    match = re.search(pattern, text)
    return cast(match.group(1)) if match else None


def run_json(name):
    path = os.path.join(work, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        doc = json.load(f)
    return doc.get("run") or doc


def summary(phase, metric):
    return ((phase or {}).get("metrics", {}).get(metric) or {}).get("summary") or {}


def peer_row(entry, seconds):
    name, tool = entry["name"], entry["tool"]
    text = read(name, "out")
    row = {"tool": tool, "round": int(entry["round"]), **usage(name)}
    if tool == "wrk":
        row["requests"] = number(r"(\d+) requests in", text, int)
        row["errors"] = (number(r"Non-2xx or 3xx responses: (\d+)", text, int) or 0)
        row["req_per_s"] = number(r"Requests/sec:\s+([\d.]+)", text)
    elif tool == "h2load":
        row["requests"] = number(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", text, int)
        row["errors"] = number(r"requests: .* (\d+) failed", text, int)
        row["req_per_s"] = number(r"finished in [\d.]+\w*, ([\d.]+) req/s", text)
    elif tool == "hey":
        row["requests"] = sum(int(n) for n in re.findall(r"\[\d+\]\s+(\d+) responses", text))
        row["errors"] = sum(int(n) for s, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", text) if s != "200")
        row["req_per_s"] = number(r"Requests/sec:\s+([\d.]+)", text)
    else:
        run = run_json(name)
        total = (run or {}).get("total", {})
        counts = total.get("counts", {})
        wall_ns = total.get("wall_duration_ns") or 0
        row["requests"] = counts.get("ok")
        row["errors"] = counts.get("failed", 0) + counts.get("aborted", 0)
        row["req_per_s"] = counts.get("ok", 0) / (wall_ns / 1e9) if wall_ns else None
    if row.get("requests") and row.get("cpu_s") is not None:
        row["cpu_us_per_request"] = row["cpu_s"] * 1e6 / row["requests"]
    server_cpu = read(name, "server_cpu_s").strip()
    if server_cpu and row.get("wall_s"):
        # nginx CPU-seconds per wall second: near 1.0 the server (one worker) was the bottleneck.
        row["server_cpu_share"] = float(server_cpu) / row["wall_s"]
    return row


def peers_section():
    meta = next((m for m in manifest if m["section"] == "peers_meta"), {})
    rows = [peer_row(e, float(meta.get("seconds", 5))) for e in manifest if e["section"] == "peers"]
    tools = []
    for tool in ["wrk", "h2load", "hey", "llmd-bench", "llmd-bench-curl"]:
        mine = [r for r in rows if r["tool"] == tool and r.get("req_per_s")]
        if not mine:
            continue
        tools.append({"tool": tool,
                      "req_per_s": statistics.mean(r["req_per_s"] for r in mine),
                      "cpu_us_per_request": statistics.mean(r.get("cpu_us_per_request") or 0 for r in mine),
                      "max_rss_kib": max(r["rss_kib"] or 0 for r in mine),
                      "errors": sum(r.get("errors") or 0 for r in mine),
                      "client_cpu_share": statistics.mean((r["cpu_s"] or 0) / r["wall_s"] for r in mine),
                      "server_cpu_share": statistics.mean(r.get("server_cpu_share") or 0 for r in mine)})
    wrk = next((t for t in tools if t["tool"] == "wrk"), None)
    for t in tools:
        t["ratio_to_wrk"] = t["req_per_s"] / wrk["req_per_s"] if wrk else None
    return {"meta": meta, "rounds": rows, "tools": tools}


def sse_events(total):
    """SSE events of a run's streams: one per token, plus the usage chunk and [DONE] of each."""
    return total.get("output_tokens_total", 0) + 2 * total.get("counts", {}).get("ok", 0)


def floor_figures(n, events, cpu_s, base_cpu_s):
    """scripts/bench/floor_client.c beside the N-stream runs: the same requests on the same schedule,
    only recv() until each response ends. Its CPU per event is the floor no client gets under on this
    machine; cpu_ratio is llmd-bench's CPU over the floor's for the same run (1 = nothing of its own)."""
    runs = {}
    for e in manifest:
        if e["section"] == "concurrency_floor" and int(e["streams"]) == n:
            doc = run_json(e["name"]) or {}
            if "user_s" in doc:
                runs[e["role"]] = {
                    "completed": doc.get("completed"), "failed": doc.get("failed"), "sse_events": doc.get("events"),
                    "recv_calls": doc.get("recv_calls"), "waits": doc.get("waits"), "cpu_s": doc["user_s"] + doc["sys_s"]}
    full, base = runs.get("run"), runs.get("one_token_run")
    if not full:
        return None
    out = {"run": full, "one_token_run": base,
           "events_per_cpu_second": full["sse_events"] / full["cpu_s"] if full["cpu_s"] else None,
           "events_per_cpu_second_marginal": None,
           "cpu_ratio": cpu_s / full["cpu_s"] if cpu_s and full["cpu_s"] else None,
           "one_token_cpu_ratio": base_cpu_s / base["cpu_s"] if base and base_cpu_s and base["cpu_s"] else None}
    if base and full["cpu_s"] > base["cpu_s"] and full["sse_events"] > base["sse_events"]:
        out["events_per_cpu_second_marginal"] = (full["sse_events"] - base["sse_events"]) / (full["cpu_s"] - base["cpu_s"])
    if events and full["sse_events"] != events:
        out["warning"] = f"the floor saw {full['sse_events']} events, llmd-bench {events}: not the same streams"
    return out


def baseline_figures(n, events, cpu_s):
    """BENCH_BASELINE: earlier revisions' clients on the same scenario file, each run straight after this
    build's against the same pod. ratio is this build's all-in events per CPU-second over the baseline's:
    measured side by side, it holds whatever the machine's speed that day."""
    return [one_baseline(e, events, cpu_s) for e in manifest
            if e["section"] == "concurrency_baseline" and int(e["streams"]) == n]


def one_baseline(entry, events, cpu_s):
    total = (run_json(entry["name"]) or {}).get("total", {})
    counts = total.get("counts", {})
    use = usage(entry["name"])
    base_events = sse_events(total)
    per_cpu_s = base_events / use["cpu_s"] if use["cpu_s"] and base_events else None
    out = {"rev": entry.get("rev"), "commit": entry.get("commit"), "ok": counts.get("ok"), "failed": counts.get("failed"),
           "sse_events": base_events, "cpu_s": use["cpu_s"], "wall_s": use["wall_s"], "max_rss_kib": use["rss_kib"],
           "events_per_cpu_second": per_cpu_s,
           "ratio": (events / cpu_s) / per_cpu_s if per_cpu_s and cpu_s else None,
           "ttft_client_added_ns": {k: summary(total, "ttft_client_added_ns").get(k) for k in ("p50", "p99")},
           "itl_client_added_ns": {k: summary(total, "itl_client_added_ns").get(k) for k in ("p50", "p99")}}
    if base_events != events:
        out["warning"] = f"that run saw {base_events} events, this build {events}: not the same streams"
    return out


def concurrency_section():
    result = []
    for entry in (e for e in manifest if e["section"] == "concurrency"):
        n = int(entry["streams"])
        run = run_json(entry["name"]) or {}
        total = run.get("total", {})
        counts = total.get("counts", {})
        use = usage(entry["name"])
        ttft_added, itl_added = summary(total, "ttft_client_added_ns"), summary(total, "itl_client_added_ns")
        events = sse_events(total)
        # The 1-token run of the same N beside it: what connections, requests and the process cost
        # without the token events; the difference is the events' own CPU (the marginal figure).
        base = next((e for e in manifest if e["section"] == "concurrency_base" and int(e["streams"]) == n), None)
        base_use = usage(base["name"]) if base else {"cpu_s": None}
        base_events = sse_events((run_json(base["name"]) or {}).get("total", {})) if base else None
        marginal = None
        if base_use["cpu_s"] is not None and use["cpu_s"] is not None and use["cpu_s"] > base_use["cpu_s"] and events > base_events:
            marginal = (events - base_events) / (use["cpu_s"] - base_use["cpu_s"])
        floor = floor_figures(n, events, use["cpu_s"], base_use["cpu_s"])
        # The client's own CPU over the measured loop (run.client_cpu: its event loop's thread), without
        # the process's start, set-up, teardown and report that the all-in figure carries.
        cpu = run.get("client_cpu")
        loop_cpu_s = (cpu["user_ns"] + cpu["system_ns"]) / 1e9 if cpu else None
        result.append({
            "streams": n, "start": entry.get("start"), "ok": counts.get("ok"), "failed": counts.get("failed"), "aborted": counts.get("aborted"),
            "failures": total.get("failures"), "peak_in_flight": total.get("peak_in_flight"),
            "wall_s": use["wall_s"], "cpu_s": use["cpu_s"], "max_rss_kib": use["rss_kib"],
            "sse_events": events,
            "events_per_cpu_second": events / use["cpu_s"] if use["cpu_s"] else None,
            "loop_cpu_s": loop_cpu_s,
            "events_per_loop_cpu_second": events / loop_cpu_s if loop_cpu_s else None,
            "loop_floor_cpu_ratio": loop_cpu_s / floor["run"]["cpu_s"] if loop_cpu_s and floor and floor["run"]["cpu_s"] else None,
            "one_token_run": {"sse_events": base_events, "cpu_s": base_use["cpu_s"]} if base else None,
            "events_per_cpu_second_marginal": marginal,
            "floor": floor,
            "baselines": baseline_figures(n, events, use["cpu_s"]),
            "ttft_client_added_ns": {k: ttft_added.get(k) for k in ("count", "p50", "p99", "max")},
            "itl_client_added_ns": {k: itl_added.get(k) for k in ("count", "p50", "p99", "max")},
            "ttft_ns": {k: summary(total, "ttft_ns").get(k) for k in ("p50", "p99", "max")},
            "event_loop_lag_ns": {k: summary(total, "event_loop_lag_ns").get(k) for k in ("count", "p50", "p99", "max")},
        })
    result.sort(key=lambda r: r["streams"])
    if len(result) >= 2 and result[-1]["max_rss_kib"] and result[0]["max_rss_kib"]:
        small, big = result[0], result[-1]
        per_stream = (big["max_rss_kib"] - small["max_rss_kib"]) * 1024 / (big["streams"] - small["streams"])
        for r in result:
            r["rss_bytes_per_stream_marginal"] = per_stream
    return result


def open_loop_section():
    entry = next((e for e in manifest if e["section"] == "open_loop"), None)
    if not entry:
        return []
    with open(entry["result"]) as f:
        run = json.load(f).get("run", {})
    seconds = float(entry["phase_seconds"])
    rows = []
    for phase in run.get("phases", []):
        target = float(phase["name"].split("-")[1])
        counts = phase["counts"]
        offered = counts["started"] + counts["dropped"]
        lag, dur, ttft = summary(phase, "schedule_lag_ns"), summary(phase, "http_req_duration_ns"), summary(phase, "ttft_ns")
        rows.append({"target_per_s": target, "achieved_per_s": counts["started"] / seconds,
                     "offered_per_s": offered / seconds,
                     "error_pct": (counts["started"] / seconds - target) * 100 / target,
                     "dropped": counts["dropped"], "failed": counts["failed"], "ok": counts["ok"],
                     "schedule_lag_ns": {k: lag.get(k) for k in ("p50", "p99", "max")},
                     "latency_from_schedule_ns": {k: dur.get(k) for k in ("p50", "p99")},
                     "ttft_from_schedule_ns": {k: ttft.get(k) for k in ("p50", "p99")}})
    return rows


def scrape_section():
    def one(name, pods):
        doc = {}
        try:
            doc = json.loads(read(name, "out"))
        except ValueError:
            pass
        use = usage(name)
        return {"pods": pods, "wall_ms": use["wall_s"] * 1000 if use["wall_s"] is not None else None,
                "cpu_ms": use["cpu_s"] * 1000 if use["cpu_s"] is not None else None, "max_rss_kib": use["rss_kib"],
                "ok": read(name, "time") != "" and bool(doc)}
    entry = next((e for e in manifest if e["section"] == "scrape"), None)
    if not entry:
        return {}
    dumps = entry["dumps"]
    sizes = [os.path.getsize(os.path.join(dumps, f)) for f in os.listdir(dumps)]
    files1, files100 = one("scrape-files-1", 1), one("scrape-files-100", 100)
    parse_100 = (files100["wall_ms"] - files1["wall_ms"]) * 100 / 99 if files100["wall_ms"] is not None else None
    return {"dump_bytes_each": statistics.mean(sizes), "files_1": files1, "files_100": files100,
            "parse_100_pods_ms_estimate": parse_100, "urls_100": one("scrape-urls-100", 100)}


def fmt(value, unit="", digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{unit}"


def us(ns):
    return fmt(ns / 1000 if ns is not None else None, " µs", 1)


results = {"schema": "llmd-bench/bench", "version": 1, "peers": peers_section(), "concurrency": concurrency_section(),
           "open_loop": open_loop_section(), "scrape": scrape_section()}
with open(out_path, "w") as f:
    json.dump(results, f, indent=2)

p = results["peers"]
print(f"\n1. peers: nginx, recorded stream of {p['meta'].get('events')} SSE events, "
      f"{p['meta'].get('connections')} connections, 1 client thread, {p['meta'].get('seconds')} s x rounds")
print(f"  {'tool':<15} {'req/s':>10} {'CPU µs/req':>11} {'max RSS':>10} {'errors':>7} {'vs wrk':>7} "
      f"{'client CPU':>10} {'nginx CPU':>10}")
for t in p["tools"]:
    print(f"  {t['tool']:<15} {fmt(t['req_per_s']):>10} {fmt(t['cpu_us_per_request'], '', 1):>11} "
          f"{fmt(t['max_rss_kib'], ' KiB'):>10} {t['errors']:>7} {fmt(t['ratio_to_wrk'], '', 2):>7} "
          f"{fmt(t['client_cpu_share'] * 100, '%'):>10} {fmt(t['server_cpu_share'] * 100, '%'):>10}")
wrk_row = next((t for t in p["tools"] if t["tool"] == "wrk"), None)
mine_row = next((t for t in p["tools"] if t["tool"] == "llmd-bench"), None)
if wrk_row and mine_row and mine_row["cpu_us_per_request"]:
    print(f"  client CPU efficiency vs wrk: {wrk_row['cpu_us_per_request'] / mine_row['cpu_us_per_request']:.2f} "
          f"(wrk µs/request ÷ llmd-bench µs/request); a tool at ~100% client CPU is client-bound, "
          f"nginx at ~100% means the server capped it")
print("\n2. concurrency and timing truth (one llmd-bench process, stamped sim pod)")
print(f"  {'streams':>7} {'ok':>6} {'fail':>5} {'peak':>6} {'RSS':>10} {'events/CPU-s':>12} "
      f"{'TTFT+ p50':>11} {'p99':>11} {'max':>11} {'ITL+ p50':>11} {'p99':>11} {'max':>11} {'loop lag p99':>12}")
for c in results["concurrency"]:
    t, i = c["ttft_client_added_ns"], c["itl_client_added_ns"]
    print(f"  {c['streams']:>7} {fmt(c['ok']):>6} {fmt(c['failed']):>5} {fmt(c['peak_in_flight']):>6} "
          f"{fmt(c['max_rss_kib'], ' KiB'):>10} {fmt(c['events_per_cpu_second']):>12} {us(t['p50']):>11} {us(t['p99']):>11} "
          f"{us(t['max']):>11} {us(i['p50']):>11} {us(i['p99']):>11} {us(i['max']):>11} "
          f"{us(c['event_loop_lag_ns']['p99']):>12}")
for c in results["concurrency"]:
    if c.get("one_token_run"):
        b = c["one_token_run"]
        print(f"  {c['streams']} streams: all-in {fmt(c['events_per_cpu_second'])} events/CPU-s "
              f"({fmt(c['sse_events'])} events, {fmt(c['cpu_s'], ' s', 2)} CPU); 1-token run beside it "
              f"{fmt(b['sse_events'])} events, {fmt(b['cpu_s'], ' s', 2)} CPU (connections, requests, the process); "
              f"marginal {fmt(c['events_per_cpu_second_marginal'])} events/CPU-s (the events alone)")
    if c.get("loop_cpu_s"):
        print(f"  {c['streams']} streams, the measured loop alone (run.client_cpu): {fmt(c['events_per_loop_cpu_second'])} "
              f"events/CPU-s ({fmt(c['loop_cpu_s'], ' s', 3)} of the {fmt(c['cpu_s'], ' s', 2)} all-in)"
              + (f"; loop / floor CPU {fmt(c['loop_floor_cpu_ratio'], 'x', 2)}" if c.get("loop_floor_cpu_ratio") else ""))
    f = c.get("floor")
    if f:
        print(f"  {c['streams']} streams, floor (floor_client.c: same requests and schedule, recv() only): all-in "
              f"{fmt(f['events_per_cpu_second'])} events/CPU-s ({fmt(f['run']['cpu_s'], ' s', 3)} CPU, "
              f"{fmt(f['run']['waits'])} waits), marginal {fmt(f['events_per_cpu_second_marginal'])}; "
              f"llmd-bench / floor CPU {fmt(f['cpu_ratio'], 'x', 2)} (1-token runs {fmt(f['one_token_cpu_ratio'], 'x', 2)})"
              + (f"  WARNING: {f['warning']}" if f.get("warning") else ""))
    for b in c.get("baselines") or []:
        print(f"  {c['streams']} streams, {b['rev']} ({(b['commit'] or '')[:10]}; the same scenario "
              f"straight after): all-in {fmt(b['events_per_cpu_second'])} events/CPU-s ({fmt(b['sse_events'])} events, "
              f"{fmt(b['cpu_s'], ' s', 2)} CPU, {fmt(b['max_rss_kib'], ' KiB')}, {fmt(b['ok'])} ok, {fmt(b['failed'])} failed); "
              f"this build / that {fmt(b['ratio'], 'x', 2)} events per CPU-second; client-added TTFT p99 "
              f"{us(c['ttft_client_added_ns']['p99'])} vs {us(b['ttft_client_added_ns']['p99'])}, ITL p99 "
              f"{us(c['itl_client_added_ns']['p99'])} vs {us(b['itl_client_added_ns']['p99'])}"
              + (f"  WARNING: {b['warning']}" if b.get("warning") else ""))
if results["concurrency"] and "rss_bytes_per_stream_marginal" in results["concurrency"][0]:
    print(f"  RSS per stream (marginal, largest vs smallest run): "
          f"{fmt(results['concurrency'][0]['rss_bytes_per_stream_marginal'] / 1024, ' KiB', 1)}")
print("\n3. open loop (constant-arrival-rate, 5 s per rate; latency from the scheduled start)")
print(f"  {'target':>7} {'achieved':>9} {'err %':>7} {'dropped':>8} {'failed':>7} {'lag p50':>10} {'lag p99':>10} "
      f"{'lag max':>10} {'e2e p50':>10} {'e2e p99':>10}")
for o in results["open_loop"]:
    lag, lat = o["schedule_lag_ns"], o["latency_from_schedule_ns"]
    print(f"  {o['target_per_s']:>7.0f} {o['achieved_per_s']:>9.1f} {o['error_pct']:>7.2f} {o['dropped']:>8} {o['failed']:>7} "
          f"{us(lag['p50']):>10} {us(lag['p99']):>10} {us(lag['max']):>10} {us(lat['p50']):>10} {us(lat['p99']):>10}")
s = results["scrape"]
if s:
    print(f"\n4. scrape: {len(os.listdir(os.path.join(work, 'dumps')))} dumps of {fmt(s['dump_bytes_each'] / 1024, ' KiB', 1)}")
    print(f"  llmd-bench scrape --files, 1 dump:    {fmt(s['files_1']['wall_ms'], ' ms')} wall (process start included)")
    print(f"  llmd-bench scrape --files, 100 dumps: {fmt(s['files_100']['wall_ms'], ' ms')} wall, "
          f"{fmt(s['files_100']['cpu_ms'], ' ms')} CPU; parse of 100 ≈ {fmt(s['parse_100_pods_ms_estimate'], ' ms')}")
    print(f"  llmd-bench scrape --url x100 (sim, parallel): {fmt(s['urls_100']['wall_ms'], ' ms')} wall, "
          f"{fmt(s['urls_100']['cpu_ms'], ' ms')} CPU (client)")
print(f"\nwrote {out_path}")
