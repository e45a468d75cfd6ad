#!/usr/bin/env python3
"""Turns the raw files of one bench/run.sh run (its work directory) into the markdown report.

Every figure is the median over the runs. A ratio between two targets is the median of the per-run
ratios (run i of one target against run i of the other, measured minutes apart), which cancels more
of the shared machine's drift than a ratio of medians would.
"""

import argparse
import collections
import datetime
import math
import os
import re
import statistics
import sys

TARGET_ORDER = ["direct", "berth", "berth-sticky", "nginx", "haproxy", "haproxy-sticky", "caddy",
                "traefik"]
PROXY_ORDER = ["berth", "nginx", "haproxy", "caddy", "traefik"]
BODY_TEXT = {"tiny": "tiny (3 B)", "16k": "16 KiB"}
TLS_MODES = [
    ("keepalive", "Requests over TLS keep-alive", "req/s", "µs/req",
     "wrk, 64 connections opened once, tiny body."),
    ("full", "New TLS connections, full handshake", "connections/s", "µs/conn",
     "ab, 64 concurrent, one request per connection (HTTP/1.0, the proxy closes). ab never "
     "offers a session, so every connection makes a full handshake: ECDHE and a signature with "
     "the certificate's key. ab reports whole milliseconds."),
    ("resumed", "New TLS connections, resumed session", "connections/s", "µs/conn",
     "wrk with `Connection: close`, 64 connections, one request each. wrk keeps its last session "
     "across connections (`SSL_shutdown` then `SSL_clear`) and offers it again, so where the "
     "proxy resumes sessions (table below) these are resumed handshakes (TLS 1.3 PSK with "
     "ECDHE, no signature)."),
]


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as lines:
        return [line.rstrip("\n").split("\t") for line in lines if line.strip()]


def median(values):
    return statistics.median(values) if values else None


def fmt(value, digits=0, unit=""):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{unit}"


class Run:
    """One wrk measurement."""

    def __init__(self, row):
        self.rps, self.p50, self.p99 = float(row[0]), float(row[1]), float(row[2])
        self.errors = int(row[3])
        self.cpu = None if row[4] == "-" else float(row[4])
        self.us = None if row[5] == "-" else float(row[5])


def paired_ratio(a_runs, b_runs, field="rps"):
    """Median over runs i of a[i] / b[i]; None when either side is missing."""
    ratios = []
    for i in sorted(set(a_runs) & set(b_runs)):
        a, b = getattr(a_runs[i], field), getattr(b_runs[i], field)
        if a is not None and b:
            ratios.append(a / b)
    return median(ratios)


def load(work):
    throughput = collections.defaultdict(dict)  # (target, conns, body) -> {run: Run}
    routing = collections.defaultdict(dict)  # (proxy, kind, count) -> {run: Run}
    memory = collections.defaultdict(lambda: collections.defaultdict(list))  # proxy -> metric
    tls = collections.defaultdict(dict)  # (proxy, mode) -> {run: Run}
    for row in read_tsv(os.path.join(work, "results.tsv")):
        if row[0] == "throughput":
            throughput[(row[1], int(row[2]), row[3])][int(row[4])] = Run(row[5:])
        elif row[0] == "routing":
            routing[(row[1], row[2], int(row[3]))][int(row[4])] = Run(row[5:])
        elif row[0] == "tls":
            tls[(row[1], row[2])][int(row[3])] = Run(row[4:])
        elif row[0] == "memory":
            proxy, metric, rss, pss, count = row[1], row[3], int(row[4]), int(row[5]), int(row[6])
            if metric == "idle":
                memory[proxy]["idle_rss"].append(rss)
                memory[proxy]["idle_pss"].append(pss)
            else:
                memory[proxy][metric].append(rss * 1024 / count)
                memory[proxy][metric + "_pss"].append(pss * 1024 / count)
    return throughput, routing, memory, tls


def percentile(values, fraction):
    """Nearest rank: of fewer than 100 values, p99 is the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else None


SCALED_APPS = {"app": "app serving on after SIGTERM", "app-nodelay": "app draining at once"}


def draining_text(meta):
    delay = meta.get("drain_delay", "?")
    if delay in ("0s", "0ms"):
        return "drains at once on SIGTERM (closes its listener and idle connections)"
    return f"serves on for {delay} after SIGTERM (`--drain-delay`), like an app draining"


class LoadCounts:
    """One line of bench/httpload.py's load: a phase or the whole run."""

    def __init__(self, row):
        self.requests, self.failed, self.non2xx, self.socket, self.replicas = map(int, row[:5])
        self.seconds, self.p50, self.p99, self.max = map(float, row[5:9])
        self.rate = self.requests / self.seconds if self.seconds else 0


def load_docker(work):
    """The rows of the discovery and scaling sections."""
    docker = {"starts": [], "removals": [], "removal_load": None, "scaling": [],
              "scaling_total": {}}
    for row in read_tsv(os.path.join(work, "results.tsv")):
        if row[0] == "discovery" and row[1] == "start":
            docker["starts"].append(int(row[3]) / 1000)
        elif row[0] == "discovery" and row[1] == "removal":
            docker["removals"].append({"received": int(row[3]), "after": int(row[4]),
                                       "last": float(row[5]), "stop": int(row[6])})
        elif row[0] == "discovery" and row[1] == "load":
            docker["removal_load"] = LoadCounts(row[2:])
        elif row[0] == "scaling" and row[2] == "total":
            docker["scaling_total"][row[1]] = LoadCounts(row[5:])
        elif row[0] == "scaling":
            docker["scaling"].append((row[1], row[2], row[3], row[4], LoadCounts(row[5:])))
    return docker


def section_machine(meta, out):
    pin = meta.get("pin") == "1"
    out.append(f"# berth benchmark, {meta.get('started', '?')} ({meta.get('mode', '?')} mode)\n")
    out.append("| | |\n|---|---|")
    out.append(f"| machine | {meta.get('nproc')} CPUs, {meta.get('cpu')}, {meta.get('memory')} |")
    out.append(f"| kernel | {meta.get('kernel')} |")
    out.append(f"| load average at start | {meta.get('loadavg')} (the machine is shared) |")
    if pin:
        out.append(f"| pinning | each proxy on CPU {meta.get('proxy_cpus')} with "
                   f"{meta.get('proxy_threads')} worker(s)/thread(s); wrk, the backends and the "
                   f"connection holder on CPU {meta.get('load_cpus')} (taskset) |")
    else:
        out.append("| pinning | none (--no-pin) |")
    out.append(f"| runs | every figure is the median of {meta.get('runs')} runs of "
               f"{meta.get('duration')} s; ratios are medians of per-run ratios |")
    out.append(f"| elapsed | {meta.get('elapsed', '?')} s |")
    if meta.get("incomplete"):
        out.append(f"| **incomplete** | {meta['incomplete']}: later sections are missing |")
    for key in sorted(k for k in meta if k.startswith("version_")):
        out.append(f"| {key[len('version_'):]} | {meta[key]} |")
    out.append("")


def section_targets(meta, throughput, routing, memory, docker, out):
    rows = []

    def add(what, measured, goal, ok):
        rows.append(f"| {what} | {measured} | {goal} | "
                    f"{'–' if ok is None else ('met' if ok else '**missed**')} |")

    def runs(target, conns=64, body="tiny"):
        return throughput.get((target, conns, body), {})

    berth = runs("berth")
    for other, goal in (("haproxy", 1.0), ("nginx", 1.0), ("caddy", 3.0), ("traefik", None)):
        ratio = paired_ratio(berth, runs(other)) if berth and runs(other) else None
        if ratio is None:
            continue
        add(f"req/s at 64 connections, tiny body: berth ÷ {other}", f"{ratio:.2f}×",
            f"≥ {goal:.1f}×" if goal else "(for information)", ratio >= goal if goal else None)
    if berth and runs("haproxy"):
        ratio = paired_ratio(runs("haproxy"), berth, "us")
        add("CPU per request at 64 connections, tiny body: HAProxy ÷ berth", f"{ratio:.2f}×",
            "(for information: > 1 means berth needs less CPU per request)", None)
    if berth and runs("direct"):
        ratio = paired_ratio(berth, runs("direct"))
        add("req/s at 64 connections, tiny body: berth ÷ direct", f"{ratio:.2f}×",
            "(for information; ≥ 0.5× is HAProxy-class)", None)
    if berth and runs("haproxy"):
        b99 = median([r.p99 for r in berth.values()])
        h99 = median([r.p99 for r in runs("haproxy").values()])
        add("p99 at 64 connections, tiny body: berth vs HAProxy",
            f"{b99:.2f} ms vs {h99:.2f} ms", "≤ HAProxy's", b99 <= h99)
    idle = median(memory.get("berth", {}).get("idle_rss", []))
    if idle is not None:
        add("berth idle RSS", f"{idle / 1024:.1f} MB", "< 10 MB", idle / 1024 < 10)
    per = median(memory.get("berth", {}).get("keepalive", []))
    if per is not None:
        add(f"berth RSS per idle keep-alive connection ({meta.get('mem_conns')} open)",
            f"{per / 1024:.2f} KB", "< 4 KB", per / 1024 < 4)
    per = median(memory.get("berth", {}).get("websocket", []))
    if per is not None:
        add(f"berth RSS per open WebSocket ({meta.get('mem_ws')} open)", f"{per / 1024:.2f} KB",
            "< 40 KB", per / 1024 < 40)
    for kind in ("host", "path"):
        counts = sorted(c for (p, k, c) in routing if p == "berth" and k == kind)
        if len(counts) >= 2 and counts[0] == 1:
            ratio = paired_ratio(routing[("berth", kind, counts[-1])], routing[("berth", kind, 1)])
            if ratio is not None:
                add(f"req/s with {counts[-1]:,} {kind} routers ÷ with 1", f"{ratio:.2f}×",
                    "≥ 0.90×", ratio >= 0.9)
    starts = docker["starts"]
    if starts:
        p99 = percentile(starts, 0.99)
        add(f"container start → first request served through berth, p99 of {len(starts)}",
            f"{p99:.1f} ms", "< 100 ms", p99 < 100)
    removals = docker["removals"]
    if removals:
        after = sum(r["after"] for r in removals)
        add(f"requests reaching a stopped container after its kill event ({len(removals)} stops)",
            str(after), "0", after == 0)
    if docker["removal_load"]:
        failed = docker["removal_load"].failed
        add("failed requests while replicas are stopped one at a time", str(failed), "0",
            failed == 0)
    cycles = len({row[1] for row in docker["scaling"]})
    for service, load in docker["scaling_total"].items():
        add(f"failed requests while scaling 2 → 8 → 2 ({cycles} cycle{'s' * (cycles != 1)}), "
            f"{SCALED_APPS.get(service, service)}", str(load.failed), "0", load.failed == 0)
    if rows:
        out.append("## Targets\n")
        out.append("| what | measured | goal | |\n|---|---|---|---|")
        out.extend(rows)
        out.append("")


def section_throughput(throughput, out):
    if not throughput:
        return
    out.append("## Throughput and latency\n")
    out.append("Keep-alive on both sides, two backends, round robin. `÷ direct` and `÷ berth` are "
               "this target's req/s divided by direct's or berth's (median of per-run ratios). "
               "`CPU` is the proxy's CPU time over the run (100 % = one core), `µs/req` its CPU "
               "time per request and `req/s per core` = 10⁶ ÷ µs/req, the capacity one core would "
               "have: the figures least disturbed by the load side and by other work on the "
               "machine. Sticky targets send the cookie they were given, so every request takes "
               "the sticky path.\n")
    cells = sorted({(body, conns) for (_, conns, body) in throughput},
                   key=lambda c: (list(BODY_TEXT).index(c[0]) if c[0] in BODY_TEXT else 9, c[1]))
    for body, conns in cells:
        out.append(f"### {BODY_TEXT.get(body, body)} body, {conns} connections\n")
        out.append("| target | req/s | ÷ direct | ÷ berth | p50 ms | p99 ms | CPU | µs/req | "
                   "req/s per core | errors | req/s min–max |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        direct = throughput.get(("direct", conns, body), {})
        berth = throughput.get(("berth", conns, body), {})
        names = [t for t in TARGET_ORDER if (t, conns, body) in throughput]
        names += sorted({t for (t, c, b) in throughput if (c, b) == (conns, body)} - set(names))
        for name in names:
            runs = throughput[(name, conns, body)]
            values = list(runs.values())
            rps = [r.rps for r in values]
            cpu = [r.cpu for r in values if r.cpu is not None]
            us = [r.us for r in values if r.us is not None]
            vs_direct = paired_ratio(runs, direct) if direct and name != "direct" else None
            vs_berth = paired_ratio(runs, berth) if berth and name != "berth" else None
            errors = sum(max(r.errors, 0) for r in values)
            failed = sum(1 for r in values if r.errors < 0)
            label = f"**{name}**" if name.startswith("berth") else name
            out.append(
                f"| {label} | {fmt(median(rps))} | {fmt(vs_direct, 2, '×')} | "
                f"{fmt(vs_berth, 2, '×')} | {fmt(median([r.p50 for r in values]), 2)} | "
                f"{fmt(median([r.p99 for r in values]), 2)} | {fmt(median(cpu), 0, ' %')} | "
                f"{fmt(median(us), 1)} | "
                f"{fmt(None if not us else 1e6 / median(us))} | "
                f"{errors}{f' ({failed} runs failed)' if failed else ''} | "
                f"{fmt(min(rps))}–{fmt(max(rps))} |")
        out.append("")


def section_routing(routing, work, out):
    if not routing:
        return
    rss = {(r[1], r[2], int(r[3])): int(r[4]) for r in read_tsv(os.path.join(work,
                                                                           "routing-rss.tsv"))}
    out.append("## Routing scale\n")
    out.append("Tiny body, 64 connections, requests aimed at the last of N routers (all rules of "
               "equal length, so equal default priority), every router pointing at the same "
               "service.\n")
    out.append("| proxy | rules | routers | req/s | × 1 router | p99 ms | µs/req | RSS after |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for key in sorted(routing, key=lambda k: (PROXY_ORDER.index(k[0]) if k[0] in PROXY_ORDER
                                              else 9, k[1], k[2])):
        proxy, kind, count = key
        runs = routing[key]
        values = list(runs.values())
        one = routing.get((proxy, kind, 1))
        ratio = paired_ratio(runs, one) if one and count != 1 else None
        memory = rss.get(key)
        out.append(
            f"| {proxy} | {'Host' if kind == 'host' else 'PathPrefix'} | {count:,} | "
            f"{fmt(median([r.rps for r in values]))} | {fmt(ratio, 2, '×')} | "
            f"{fmt(median([r.p99 for r in values]), 2)} | "
            f"{fmt(median([r.us for r in values if r.us is not None]), 1)} | "
            f"{fmt(None if memory is None else memory / 1024, 1, ' MB')} |")
    out.append("")


def section_tls(meta, tls, work, out):
    if not tls:
        return
    out.append("## TLS\n")
    out.append(f"Every proxy terminates TLS 1.3 with the same self-signed certificate made for "
               f"this run ({meta.get('tls_key', '?')}), in front of the backends of the "
               f"throughput section (two, round robin, plain HTTP with keep-alive). "
               f"`berth ÷ this` is berth's figure divided by this proxy's (median of per-run "
               f"ratios); `CPU` and `µs` are the proxy's CPU time as in the throughput section. "
               f"The client (wrk or ab) does its half of every handshake on the load CPU, so it "
               f"may be the limit: µs per connection is the figure it disturbs least.\n")
    proxies = sorted({p for (p, _) in tls},
                     key=lambda p: PROXY_ORDER.index(p) if p in PROXY_ORDER else 9)
    for mode, title, rate, cost, how in TLS_MODES:
        if not any((p, mode) in tls for p in proxies):
            continue
        berth = tls.get(("berth", mode), {})
        out.append(f"### {title}\n")
        out.append(how + "\n")
        out.append(f"| proxy | {rate} | berth ÷ this | p50 ms | p99 ms | CPU | {cost} | errors | "
                   f"{rate} min–max |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for proxy in [p for p in proxies if (p, mode) in tls]:
            runs = tls[(proxy, mode)]
            values = list(runs.values())
            rps = [r.rps for r in values]
            ratio = paired_ratio(berth, runs) if berth and proxy != "berth" else None
            errors = sum(max(r.errors, 0) for r in values)
            failed = sum(1 for r in values if r.errors < 0)
            label = f"**{proxy}**" if proxy == "berth" else proxy
            out.append(
                f"| {label} | {fmt(median(rps))} | {fmt(ratio, 2, '×')} | "
                f"{fmt(median([r.p50 for r in values]), 2)} | "
                f"{fmt(median([r.p99 for r in values]), 2)} | "
                f"{fmt(median([r.cpu for r in values if r.cpu is not None]), 0, ' %')} | "
                f"{fmt(median([r.us for r in values if r.us is not None]), 1)} | "
                f"{errors}{f' ({failed} runs failed)' if failed else ''} | "
                f"{fmt(min(rps))}–{fmt(max(rps))} |")
        out.append("")
    params = read_tsv(os.path.join(work, "tls-params.tsv"))
    if params:
        out.append("What each proxy negotiated with `openssl s_client` (OpenSSL's defaults, as wrk "
                   "and ab use), whether it refused a TLS 1.2 handshake, and whether a second "
                   "connection offering the first one's session was resumed:\n")
        out.append("| proxy | protocol and cipher | key exchange | refuses TLS 1.2 | "
                   "resumes a session |")
        out.append("|---|---|---|---|---|")
        for name, cipher, group, refuses, resumed in params:
            out.append(f"| {name} | {cipher} | {group} | {refuses} | {resumed} |")
        out.append("")


def section_discovery(meta, docker, out):
    starts, removals = docker["starts"], docker["removals"]
    if not starts and not removals:
        return
    out.append("## Discovery on Docker\n")
    out.append(f"berth runs in a container (image staged from BERTH_BIN) with the Docker provider, "
               f"published on 127.0.0.1. **Start → served:** for each of {len(starts)} containers "
               f"(berth-whoami, no HEALTHCHECK, a router of its own), the time from its "
               f"`State.StartedAt` to the first 200 through berth for its Host, which a client "
               f"already polling about every millisecond receives. **Removal:** a service of 4 "
               f"replicas under a steady {meta.get('docker_rate', '?')} requests/s over "
               f"{meta.get('docker_conns', '?')} kept-alive connections through berth; "
               f"{len(removals)} times, the oldest replica is stopped with `docker stop` and "
               f"replaced. Each replica logs every request's arrival (`--log-requests`) and "
               f"{draining_text(meta)}, so that a request routed to it after the daemon's `kill` "
               f"event (its `timeNano`) shows in its log instead of merely failing. Percentiles "
               f"are nearest rank: of fewer than 100 values, p99 is the largest.\n")
    out.append("| figure | median | p99 | min | max | n |")
    out.append("|---|---:|---:|---:|---:|---:|")

    def row(what, values, digits=1):
        if values:
            out.append(f"| {what} | {fmt(median(values), digits)} | "
                       f"{fmt(percentile(values, 0.99), digits)} | {fmt(min(values), digits)} | "
                       f"{fmt(max(values), digits)} | {len(values)} |")

    row("start → first request served through berth, ms", starts)
    row("kill event → last request the stopped replica received, ms (< 0: before the event)",
        [r["last"] for r in removals], 2)
    row("requests the stopped replica received in all", [r["received"] for r in removals], 0)
    row("`docker stop` took, ms", [r["stop"] for r in removals], 0)
    out.append("")
    if removals:
        after = sum(r["after"] for r in removals)
        runs = sum(1 for r in removals if r["after"])
        out.append(f"Requests that reached the stopped replica after its kill event: **{after}**"
                   f" (in {runs} of {len(removals)} stops).")
    load = docker["removal_load"]
    if load:
        out.append(f"The load during the removals: {load.requests:,} requests in "
                   f"{load.seconds:.0f} s ({load.rate:,.0f}/s), **{load.failed} failed** "
                   f"({load.non2xx} non-2xx, {load.socket} socket errors or timeouts); latency "
                   f"p50 {load.p50:.1f} ms, p99 {load.p99:.1f} ms, max {load.max:.1f} ms.")
    out.append("")


def section_scaling(meta, docker, out):
    if not docker["scaling"] and not docker["scaling_total"]:
        return
    out.append("## Scaling under load\n")
    out.append(f"A compose project written by the harness: berth, and two services of "
               f"berth-whoami with Traefik labels, `app`, which {draining_text(meta)}, and "
               f"`app-nodelay`, which {draining_text({'drain_delay': '0s'})}. Each in turn takes a "
               f"steady {meta.get('docker_rate', '?')} requests/s over "
               f"{meta.get('docker_conns', '?')} kept-alive connections through berth while "
               f"`up -d --no-recreate --scale` takes it from 2 to 8 replicas and back to 2 "
               f"(compose stops the extra ones with SIGTERM). A phase runs from the end of the previous one "
               f"through its compose command and 3 s after, and a request counts in the phase it "
               f"ends in; `replicas` counts those that answered in it. Failed: a non-2xx answer, "
               f"a socket error or a timeout (5 s).\n")
    out.append("| service | cycle | phase | compose s | phase s | requests | req/s | p50 ms | "
               "p99 ms | max ms | failed | non-2xx | socket errors | replicas |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = {"steady-2": "at 2", "up": "2 → 8", "down": "8 → 2"}
    rows = []
    for service in dict.fromkeys([row[0] for row in docker["scaling"]] +
                                 list(docker["scaling_total"])):
        rows += [row for row in docker["scaling"] if row[0] == service]
        if service in docker["scaling_total"]:
            rows.append((service, "**all**", "", "", docker["scaling_total"][service]))
    for service, cycle, phase, command, load in rows:
        whole = cycle == "**all**"
        out.append(f"| {service} | {cycle} | {names.get(phase, phase)} | {command} | "
                   f"{load.seconds:.1f} | {load.requests:,} | {load.rate:,.0f} | {load.p50:.1f} | "
                   f"{load.p99:.1f} | {load.max:.1f} | "
                   f"{f'**{load.failed}**' if whole else load.failed} | {load.non2xx} | "
                   f"{load.socket} | {'' if whole else load.replicas} |")
    out.append("")


def section_memory(meta, memory, work, out):
    if not memory:
        return
    after = {r[1]: int(r[2]) for r in read_tsv(os.path.join(work, "memory-after-load.tsv"))}
    out.append("## Memory\n")
    out.append(f"RSS from /proc/<pid>/status, summed over the proxy's processes (nginx: master "
               f"and worker; PSS from smaps_rollup counts their shared pages once). Idle: a fresh "
               f"process after one request. Per connection: (RSS with N open − RSS before) ÷ N, "
               f"N = {meta.get('mem_conns')} keep-alive connections that each made one request, "
               f"or N = {meta.get('mem_ws')} WebSockets that each echoed one message (each a "
               f"fresh process). Upstream connections the proxy keeps are included.\n")
    out.append("| proxy | idle RSS | idle PSS | per keep-alive conn (RSS) | (PSS) | "
               "per WebSocket (RSS) | (PSS) | RSS after the throughput runs |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for proxy in [p for p in PROXY_ORDER if p in memory]:
        m = memory[proxy]

        def mb(values):
            value = median(values)
            return fmt(None if value is None else value / 1024, 1, " MB")

        def per(values):
            value = median(values)
            return "–" if value is None else f"{value / 1024:,.2f} KB"

        label = f"**{proxy}**" if proxy == "berth" else proxy
        load_rss = after.get(proxy)
        out.append(
            f"| {label} | {mb(m['idle_rss'])} | {mb(m['idle_pss'])} | {per(m['keepalive'])} | "
            f"{per(m['keepalive_pss'])} | {per(m['websocket'])} | {per(m['websocket_pss'])} | "
            f"{fmt(None if load_rss is None else load_rss / 1024, 1, ' MB')} |")
    out.append("")


def section_profile(work, out):
    path = os.path.join(work, "perf.txt")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    profile = read_tsv(os.path.join(work, "profile.tsv"))
    out.append("## Where berth spends its time\n")
    extra = ""
    if profile:
        extra = f" (that run: {float(profile[0][5]):,.0f} req/s, {profile[0][10]} µs CPU per request)"
    out.append("`perf record -e cpu-clock -F 999 -p <berth>` during one extra wrk run at 64 "
               f"connections, tiny body{extra}: self time by shared object, then by symbol "
               "(entries above 0.7 %, names cut at 150 characters):\n")
    out.append("```")
    with open(path, encoding="utf-8") as text:
        out.append(text.read().rstrip())
    out.append("```\n")


def section_syscalls(work, out):
    rows = read_tsv(os.path.join(work, "syscalls.tsv"))
    if not rows:
        return
    per = collections.defaultdict(dict)
    for target, call, count in rows:
        per[target][call] = float(count)
    targets = [t for t in TARGET_ORDER if t in per]
    calls = sorted({c for t in targets for c, n in per[t].items() if n >= 0.05 and c != "total"},
                   key=lambda c: -max(per[t].get(c, 0) for t in targets))
    out.append("## System calls per request\n")
    out.append("`strace -c -f` attached to the proxy during one more wrk run (64 connections, tiny "
               "body); calls ÷ requests. A proxy needs at least one read and one write on each "
               "side per request.\n")
    out.append("| call | " + " | ".join(targets) + " |")
    out.append("|---|" + "---:|" * len(targets))
    for call in calls + ["total"]:
        out.append(f"| {call} | " + " | ".join(fmt(per[t].get(call), 2) for t in targets) + " |")
    out.append("")


def section_commands(work, out):
    out.append("## Exact commands\n")
    out.append("Ports are picked free from BENCH_PORT_BASE up; paths are in the run's temporary "
               "directory.\n")
    out.append("```")
    seen = set()
    for row in read_tsv(os.path.join(work, "commands.tsv")):
        name = re.sub(r"-\d+$", "-N", row[0])
        command = re.sub(r"/tmp/berth-bench\.\w+", "$WORK", row[1])
        command = re.sub(r"-\d+(\.(conf|cfg|Caddyfile|yml))", r"-N\1", command)
        command = re.sub(r"--count \d+", "--count N", command)
        command = re.sub(r"\S*/bench/", "bench/", command)
        command = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", command)
        command = re.sub(r"--ports \d+,\d+", "--ports PORT1,PORT2", command)
        command = re.sub(r"--port \d+", "--port PORT", command)
        command = re.sub(r"(start-?|replica-)\d+", r"\1N", command)
        if (name, command) in seen:
            continue
        seen.add((name, command))
        out.append(f"{name}: {command}")
    wrk = set()
    path = os.path.join(work, "wrk-commands.txt")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line.strip())
                wrk.add(re.sub(r"Cookie: [^']+", "Cookie: <the cookie the proxy set>", line))
    for line in sorted(wrk):
        out.append(f"load: {line}")
    if any(name.startswith("mem-") for name, _ in seen):
        out.append("memory: python3 bench/holdconns.py --port PORT --count N --mode http|ws "
                   "--path /|/ws (pinned like the load)")
    if os.path.exists(os.path.join(work, "perf.txt")):
        out.append("profile: perf record -e cpu-clock -F 999 -p <berth> -- sleep <duration>, "
                   "then perf report --stdio --sort dso / --sort dso,symbol")
    if os.path.exists(os.path.join(work, "syscalls.tsv")):
        out.append("syscalls: strace -c -f -p <each pid of the proxy>, stopped with SIGINT after "
                   "one wrk run")
    if any(name.startswith("discovery") for name, _ in seen):
        out.append("discovery: python3 bench/httpload.py first-ok --port PORT --host "
                   "startN.bench.test (polling from just before docker start); docker stop -t 10 "
                   "<replica>, then docker events --since T0 --until T1 "
                   "--filter container=<replica> --filter event=kill --format '{{.TimeNano}}' "
                   "and docker logs <replica>")
    if os.path.exists(os.path.join(work, "tls-params.tsv")):
        out.append("tls check: printf 'GET /tiny HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' | "
                   "openssl s_client -connect 127.0.0.1:PORT -ign_eof -sess_out FILE, then the "
                   "same with -sess_in FILE")
    out.append("```\n")
    conf = os.path.join(work, "conf")
    if os.path.isdir(conf):
        wanted = [f for f in sorted(os.listdir(conf)) if not f.startswith("routes-")
                  and not f.startswith("mem-")]
        for name in wanted:
            with open(os.path.join(conf, name), encoding="utf-8") as text:
                body = re.sub(r"/tmp/berth-bench\.\w+", "$WORK", text.read())
                body = re.sub(r"berth-bench-\d+", "$ID", body)
            out.append(f"<details><summary>{name}</summary>\n\n```\n{body.rstrip()}\n```\n"
                       "</details>\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    meta = {row[0]: row[1] for row in read_tsv(os.path.join(args.work, "meta.tsv"))
            if len(row) > 1}
    throughput, routing, memory, tls = load(args.work)
    docker = load_docker(args.work)
    out = []
    section_machine(meta, out)
    section_targets(meta, throughput, routing, memory, docker, out)
    section_throughput(throughput, out)
    section_routing(routing, args.work, out)
    section_tls(meta, tls, args.work, out)
    section_memory(meta, memory, args.work, out)
    section_discovery(meta, docker, out)
    section_scaling(meta, docker, out)
    section_profile(args.work, out)
    section_syscalls(args.work, out)
    notes = os.path.join(args.work, "notes.txt")
    if os.path.exists(notes):
        out.append("## Notes from this run\n")
        with open(notes, encoding="utf-8") as lines:
            out.extend(f"- {line.strip()}" for line in lines if line.strip())
        out.append("")
    section_commands(args.work, out)
    out.append(f"_Written by bench/report.py at "
               f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC._")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as result:
        result.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
