"""`make loadtest`: serve a seeded portal with gunicorn and drive it at a fixed request rate.

Sets up the database (a SQLite file kept under var/loadtest/, one per size, or DATABASE_URL when set),
migrates, seeds `seed_demo --size N` (1000 by default) unless it already holds an organisation (seeding
1000 takes about ten minutes, so a later run reuses it; --fresh starts the SQLite file over), collects
static files, starts gunicorn on loopback with production settings, logs in (a session for the pages) and
makes an API token (for the API), then sends RATE requests a second for DURATION seconds and prints, per
endpoint, requests, p50/p95/p99 latency, throughput and error rate.

The load is open-loop: requests are sent on a fixed schedule whatever the answers take, and a request's
latency is counted from the moment it was scheduled, so a slow portal cannot lower the offered load or
hide its queueing (no coordinated omission). Exits 1 when any request failed (an exception, a timeout or
a status other than 200), 2 when the set-up failed.

Standard library only, on purpose: locust would add gevent, pyzmq, Flask and about twenty other packages,
and its users wait for their answers (closed-loop) unless carefully paced.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlencode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SEARCH_QUERIES = ["payments", "checkout latency", "escalation", "SEV1 acknowledge", "identity login", "refund"]
# Share of the requests each endpoint gets: pages people open most, and the API that automation polls.
MIX = {"search": 3, "oncall card": 2, "sla page": 2, "api sla": 2, "api services": 1}
TIMEOUT_SECONDS = 10
PROGRESS_EVERY_SECONDS = 10
DEMO_USER, DEMO_PASSWORD = "admin", "demo-password"


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("LOADTEST_SIZE", 1000)))
    parser.add_argument("--fresh", action="store_true", help="delete the kept SQLite file and seed again")
    parser.add_argument("--rate", type=float, default=50, help="requests a second (default 50)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds at the same rate, not counted (default 5)")
    # Cores + 1 rather than gunicorn's usual 2 x cores + 1: the database runs on the same cores, and with
    # PostgreSQL five workers on two cores left its backends so little time that p95 doubled.
    parser.add_argument(
        "--workers", type=int, default=(os.cpu_count() or 1) + 1, help="gunicorn workers (default: cores + 1)"
    )
    parser.add_argument("--p95-target-ms", type=float, default=100)
    return parser.parse_args()


def say(text):
    print(text, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The portal under test -------------------------------------------------------------


KEPT_DATABASES = PROJECT_ROOT / "var" / "loadtest"


class Portal:
    def __init__(self, workdir, workers, database_url):
        self.workdir = workdir
        self.workers = workers
        self.port = free_port()
        self.server = None
        self.environment = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "STATIC_ROOT": str(workdir / "static"),
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
        }

    def manage(self, *arguments, progress=False):
        """Run a management command; with `progress`, what it reports on stderr is shown as it goes."""
        result = subprocess.run(
            [PYTHON, "manage.py", *arguments],
            cwd=PROJECT_ROOT,
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=None if progress else subprocess.PIPE,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(arguments)} failed:\n{(result.stderr or result.stdout)[-3000:]}")
        return result.stdout

    def prepare(self, size):
        database = self.environment["DATABASE_URL"].split("@")[-1]
        say(f"Database: {database}")
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")
        started = time.monotonic()
        # --if-empty: a database that holds the organisation is used as it is (the seeding is one transaction,
        # so a database with teams holds all of it).
        seeded = self.manage("seed_demo", "--size", str(size), "--force", "--if-empty", progress=True)
        if "already has data" in seeded:
            say("The database already holds an organisation: used as it is, not seeded again")
        else:
            say(f"Seeded seed_demo --size {size} in {time.monotonic() - started:.0f} s")
        return self.manage("create_api_token", DEMO_USER, "--name", "loadtest", "--days", "1").strip()

    def start(self):
        log = open(self.workdir / "gunicorn.log", "w")  # noqa: SIM115 (lives as long as the server)
        self.server = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "portal.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
            ],
            cwd=PROJECT_ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(self.port, "/healthz/")[0] == 200:
                    say(f"gunicorn: {self.workers} sync workers on http://127.0.0.1:{self.port}/")
                    return
            except OSError:
                pass
            if self.server.poll() is not None:
                break
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not come up; see {self.workdir / 'gunicorn.log'}")

    def stop(self):
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


# HTTP ------------------------------------------------------------------------------


def request(port, path, *, method="GET", headers=None, body=None):
    """One request on a new connection (gunicorn's sync workers close each one); (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def cookies_from(headers):
    cookies = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key.strip()] = rest.split(";", 1)[0]
    return cookies


def log_in(port):
    """A session cookie for the demo admin, through the real login form (CSRF and all)."""
    status, headers, body = request(port, "/accounts/login/")
    cookies = cookies_from(headers)
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not found or "csrftoken" not in cookies:
        raise SystemExit(f"The login page did not offer a form (HTTP {status}).")
    form = urlencode({"username": DEMO_USER, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": found.group(1).decode()})
    status, headers, _ = request(
        port,
        "/accounts/login/",
        method="POST",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Origin": f"http://127.0.0.1:{port}",
        },
    )
    session = cookies_from(headers).get("sessionid")
    if status != 302 or not session:
        raise SystemExit(f"Logging in as {DEMO_USER} failed (HTTP {status}).")
    return f"sessionid={session}"


def api_list(port, path, token):
    status, _, body = request(port, path, headers={"Authorization": f"Token {token}"})
    if status != 200:
        raise SystemExit(f"{path} answered HTTP {status}.")
    data = json.loads(body)
    return data["results"] if isinstance(data, dict) else data


def endpoints(port, session, token):
    """Each endpoint's paths (cycled through) and headers."""
    services = [service["slug"] for service in api_list(port, "/api/v1/services/?page_size=50", token)]
    slas = [sla["reference"] for sla in api_list(port, "/api/v1/slas/?page_size=50", token)]
    demo_services = [slug for slug in services if not slug.startswith("synthetic")] or services
    pages = {"Cookie": session}
    api = {"Authorization": f"Token {token}", "Accept": "application/json"}
    return {
        "search": ([f"/search/?q={quote(query)}" for query in SEARCH_QUERIES], pages),
        "oncall card": ([f"/services/{slug}/oncall/" for slug in demo_services[:6]], pages),
        "sla page": ([f"/slas/{reference}/" for reference in slas[:6]], pages),
        "api sla": ([f"/api/v1/slas/{reference}/" for reference in slas[:6]], api),
        "api services": (["/api/v1/services/"], api),
    }


def prime(port, targets, workers):
    """Warm every worker on every endpoint (imports, templates, caches), one request at a time.

    Returns each endpoint's median single-request time: what a request costs with nothing queued.
    """
    alone = {}
    for name, (paths, headers) in targets.items():
        times = []
        for index in range(2 * workers):
            started = time.monotonic()
            request(port, paths[index % len(paths)], headers=headers)
            times.append(time.monotonic() - started)
        alone[name] = percentile(times[workers:], 0.5) * 1000
    return alone


# Load --------------------------------------------------------------------------------


def schedule(rate, seconds, offset=0.0):
    """(send time from the start, endpoint) at a fixed rate, the endpoints interleaved by MIX."""
    order = [name for name, weight in MIX.items() for _ in range(weight)]
    count = int(rate * seconds)
    return [(offset + index / rate, order[index % len(order)]) for index in range(count)]


def drive(port, targets, plan, *, counted_from):
    """Send `plan` open-loop; return the counted results: (endpoint, latency s, ok, detail)."""
    results, lock = [], threading.Lock()
    answered, failed = [0], [0]  # every request, warm-up included: for the progress lines
    cursors = defaultdict(int)
    # Enough threads for every request of one timeout period to be in flight at once (open-loop); beyond
    # that a request waits here, still timed from its schedule.
    pool = ThreadPoolExecutor(max_workers=min(512, max(32, int(TIMEOUT_SECONDS * len(plan) / max(plan[-1][0], 1)))))
    start = time.monotonic() + 0.5
    lateness = 0.0

    def send(name, path, headers, due):
        if time.monotonic() - due > TIMEOUT_SECONDS:
            # Every thread has been busy for the whole timeout: the portal is overloaded. Counting the request
            # as timed out without sending it keeps the run as long as planned, and piles no more on the server.
            ok, detail = False, f"not sent: {TIMEOUT_SECONDS} s behind schedule"
        else:
            ok, detail = attempt(path, headers)
        latency = time.monotonic() - due
        with lock:
            answered[0] += 1
            failed[0] += not ok
            if due - start >= counted_from:
                results.append((name, latency, ok, detail))

    def attempt(path, headers):
        try:
            status, _, _ = request(port, path, headers=headers)
            ok, detail = status == 200, f"HTTP {status}"
        except Exception as error:
            ok, detail = False, f"{type(error).__name__}: {error}"
        return ok, detail

    next_progress = PROGRESS_EVERY_SECONDS
    for sent, (offset, name) in enumerate(plan):
        if offset >= next_progress:
            with lock:
                say(f"  {offset:4.0f} s: {sent} sent, {answered[0]} answered, {failed[0]} failed")
            next_progress += PROGRESS_EVERY_SECONDS
        due = start + offset
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        lateness = max(lateness, time.monotonic() - due)
        paths, headers = targets[name]
        path = paths[cursors[name] % len(paths)]
        cursors[name] += 1
        pool.submit(send, name, path, headers, due)
    pool.shutdown(wait=True)
    return results, lateness


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def report(results, duration, p95_target_ms, rate):
    by_endpoint = defaultdict(list)
    for row in results:
        by_endpoint[row[0]].append(row)
    header = f"{'endpoint':<14} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>7}"
    say(header)
    say("-" * len(header))
    for name in [*MIX, "total"]:
        rows = results if name == "total" else by_endpoint[name]
        latencies = [latency * 1000 for _, latency, _, _ in rows]
        errors = sum(not ok for _, _, ok, _ in rows)
        say(
            f"{name:<14} {len(rows):>8} {percentile(latencies, 0.50):>8.1f} {percentile(latencies, 0.95):>8.1f} "
            f"{percentile(latencies, 0.99):>8.1f} {len(rows) / duration:>7.1f} {errors / max(len(rows), 1):>7.1%}"
        )
    failures = defaultdict(int)
    for name, _, ok, detail in results:
        if not ok:
            failures[f"{name}: {detail}"] += 1
    for failure, count in sorted(failures.items()):
        say(f"  {count} × {failure}")
    total_p95 = percentile([latency * 1000 for _, latency, _, _ in results], 0.95)
    errors = sum(failures.values())
    met = errors == 0 and total_p95 < p95_target_ms and len(results) >= rate * duration * 0.99
    say(
        f"Target ({rate:g} req/s for {duration:g} s, p95 < {p95_target_ms:g} ms, no errors): "
        f"{'MET' if met else 'NOT MET'} (p95 {total_p95:.1f} ms, {errors} errors)"
    )
    return errors


def database_url(options):
    """DATABASE_URL when set; otherwise the SQLite file kept for this size (deleted first with --fresh)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    KEPT_DATABASES.mkdir(parents=True, exist_ok=True)
    path = KEPT_DATABASES / f"size-{options.size}.sqlite3"
    if options.fresh:
        for leftover in KEPT_DATABASES.glob(f"{path.name}*"):
            leftover.unlink()
    return f"sqlite:///{path}"


def main():
    options = parse_arguments()
    workdir = Path(tempfile.mkdtemp(prefix="sla-loadtest-"))
    portal = Portal(workdir, options.workers, database_url(options))
    try:
        token = portal.prepare(options.size)
        portal.start()
        session = log_in(portal.port)
        targets = endpoints(portal.port, session, token)
        alone = prime(portal.port, targets, options.workers)
        say("One request at a time, median ms: " + ", ".join(f"{name} {ms:.0f}" for name, ms in alone.items()))
        plan = schedule(options.rate, options.warmup) + schedule(options.rate, options.duration, options.warmup)
        load_before = os.getloadavg()
        say(
            f"Load: {options.rate:g} req/s open-loop for {options.warmup:g} s warm-up (not counted) + "
            f"{options.duration:g} s; load average before {load_before[0]:.2f} {load_before[1]:.2f} "
            f"{load_before[2]:.2f} on {os.cpu_count()} cores"
        )
        results, lateness = drive(portal.port, targets, plan, counted_from=options.warmup)
        load_after = os.getloadavg()
        say(
            f"Load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; "
            f"the generator sent each request at most {lateness * 1000:.0f} ms late\n"
        )
        errors = report(results, options.duration, options.p95_target_ms, options.rate)
    finally:
        portal.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
