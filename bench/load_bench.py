"""Load-test the directory over HTTP: `crm serve --workers 2` against a generated database, driven by wrk.

Usage: python bench/load_bench.py --database-url URL [--duration 10] [--connections 16] [--workers 2]

Starts the server on a free loopback port, signs in as the bench officer through the real login form
(GET /login for the CSRF cookie, POST /login), checks the directory answers 200 with that cookie, then runs
`wrk -t2 -c16 -d10s --latency` on /organisations (and, unless --only-list, on a text search, a filter and
page 500), printing requests/s, p50 and p99. The server is stopped in every case. wrk runs on the same
machine as the server, so the figures are lower bounds. Needs wrk (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import benchlib
import httpx

TARGET_RPS = 600
PATHS = [
    ("list, page 1", "/organisations"),
    ("text search 'sene'", "/organisations?q=sene"),
    ("filter residence=FR&sector=education", "/organisations?residence=FR&sector=education"),
    ("list, page 500", "/organisations?page=500"),
]


def start_server(url: str, port: int, workers: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        CRM_DATABASE_URL=url,
        CRM_SECRET_KEY=benchlib.SECRET_KEY,
        CRM_ALLOWED_HOSTS='["127.0.0.1"]',
        CRM_DEMO="0",
    )
    crm = Path(sys.executable).with_name("crm")
    command = [str(crm), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    log = log_path.open("wb")
    # A session of its own, so stopping it reaches the uvicorn workers too, and nothing else.
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_until_up(base: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer /healthz within {timeout:.0f} s")


def sign_in(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login")
        csrf = client.cookies.get("csrftoken")
        if page.status_code != 200 or not csrf:
            raise SystemExit(
                f"GET /login: HTTP {page.status_code}, csrftoken cookie {'set' if csrf else 'missing'}"
            )
        response = client.post(
            "/login",
            data={
                "_csrf_token": csrf,
                "email": benchlib.OFFICER_EMAIL,
                "password": benchlib.PASSWORD,
                "next": "/",
            },
        )
        session = response.cookies.get("crm_session") or client.cookies.get("crm_session")
        if response.status_code not in (302, 303) or not session:
            raise SystemExit(
                f"POST /login: HTTP {response.status_code}; no session (is the database generated?)"
            )
        check = client.get("/organisations")
        if check.status_code != 200 or "result-count" not in check.text:
            raise SystemExit(f"GET /organisations after sign-in: HTTP {check.status_code}")
        return {"crm_session": session, "csrftoken": csrf}


def server_cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """CPU time (user + system) used so far by the server and its worker processes. Divided by the requests
    served, it tells what a request costs even on a shared machine, where req/s depends on the neighbours."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state, ppid, pgrp, ... utime is field 14 and stime 15 of the whole line.
        if int(fields[2]) == process.pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def parse_duration_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        return float("nan")
    number, unit = float(match.group(1)), match.group(2)
    return number * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(url: str, cookie: str, duration: int, connections: int, threads: int) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    requests = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50": parse_duration_ms(p50.group(1)) if p50 else float("nan"),
        "p99": parse_duration_ms(p99.group(1)) if p99 else float("nan"),
        "requests": float(requests.group(1)) if requests else 0,
        "non_2xx": float(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only-list", action="store_true", help="only /organisations (the target figure)")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    port = benchlib.free_port()
    base = f"http://127.0.0.1:{port}"
    benchlib.OUT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = benchlib.OUT_DIR / f"server-{port}.log"
    label = benchlib.engine_label(args.database_url)
    process = start_server(args.database_url, port, args.workers, log_path)
    try:
        wait_until_up(base, process)
        cookies = sign_in(base)
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        print(
            f"{label}: crm serve --workers {args.workers} on {base}, signed in as {benchlib.OFFICER_EMAIL}; "
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency"
        )
        print(
            f"{'path':<40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'CPU ms/req':>10}  non-2xx"
        )
        paths = PATHS[:1] if args.only_list else PATHS
        for name, path in paths:
            cpu_before = server_cpu_seconds(process)
            result = run_wrk(base + path, cookie, args.duration, args.connections, args.threads)
            cpu_ms = (server_cpu_seconds(process) - cpu_before) * 1000 / max(result["requests"], 1)
            result["cpu_ms"] = cpu_ms
            print(
                f"{name:<40} {result['rps']:>8.0f} {result['p50']:>8.1f} {result['p99']:>8.1f} "
                f"{result['requests']:>9.0f} {cpu_ms:>10.2f}  {result['non_2xx']:.0f} {result['socket_errors']}",
                flush=True,
            )
            if path == "/organisations":
                verdict = "meets" if result["rps"] >= TARGET_RPS else "MISSES"
                list_result = result
        print(
            f"SUMMARY {label} /organisations: {list_result['rps']:.0f} req/s, p50 {list_result['p50']:.1f} ms, "
            f"p99 {list_result['p99']:.1f} ms, server CPU {list_result['cpu_ms']:.2f} ms/request "
            f"({verdict} the target of {TARGET_RPS} req/s)"
        )
    except BaseException:
        print(f"server log kept in {log_path}", file=sys.stderr)
        raise
    else:
        log_path.unlink(missing_ok=True)
    finally:
        stop_server(process)


if __name__ == "__main__":
    main()
