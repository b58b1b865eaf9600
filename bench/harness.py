"""What the surge benchmarks share: server processes on loopback, wrk runs, peak memory, figures."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-0123456789abcdef"
MAIL_FROM = "Free Tibet <campaigns@freetibet.example>"


@dataclasses.dataclass
class Figure:
    """One row of the table: the project's figure beside its reference from the same run."""

    name: str
    project: str
    reference: str = "-"
    ratio: float | None = None
    target: str = "-"
    passed: bool | None = None

    def row(self) -> str:
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}"
        verdict = {None: "-", True: "pass", False: "**fail**"}[self.passed]
        return (
            f"| {self.name} | {self.project} | {self.reference} | {ratio} | {self.target} "
            f"| {verdict} |"
        )


TABLE_HEADER = (
    "| figure | project | reference | ratio | target | result |\n"
    "| --- | --- | --- | ---: | --- | --- |"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout} s")


def app_environment(database_url: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment a deployed site or worker would have, pointed at loopback stand-ins."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TEST_", "SMTP_", "DATABASE_", "PARLIAMENT_"))
    }
    environment.update(
        SECRET_KEY=SECRET_KEY,
        MAIL_FROM=MAIL_FROM,
        DATABASE_URL=database_url,
        PUBLIC_URL="http://127.0.0.1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    environment.update(extra)
    return environment


@contextlib.contextmanager
def process(
    command: list[str], environment: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A background process (its own process group), stopped with SIGTERM when the block ends."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    started = subprocess.Popen(
        command,
        env=dict(environment) if environment is not None else None,
        cwd=tempfile.gettempdir(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        if port is not None:
            wait_for_port(port)
        yield started
    except BaseException:
        log.seek(0)
        print(log.read().decode(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(started.pid, signal.SIGTERM)
        try:
            started.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(started.pid, signal.SIGKILL)
            started.wait()
        log.close()


def gunicorn(app: str, port: int, workers: int, environment: Mapping[str, str]) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "sync",
        "--backlog",
        "2048",
        app,
    ]


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident memory (VmHWM), in MB; 0 once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclasses.dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    errors: int


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk (make bench installs it)")
    return found


def run_wrk(
    url: str,
    seconds: float,
    connections: int,
    script: str | None = None,
    threads: int = 2,
    done: Callable[[], bool] | None = None,
) -> WrkResult:
    """wrk against url for `seconds`; a Lua script (text) sets the method, body and headers.

    With `done`, wrk is interrupted (and prints its figures) as soon as done() is true: a script's
    wrk.thread:stop() ends its thread, but wrk itself still waits out the whole duration."""
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    try:
        if script:
            command += ["-s", lua.name]
        if done is None:
            output = subprocess.run(
                [*command, url], check=True, capture_output=True, text=True, timeout=seconds + 120
            ).stdout
        else:
            output = _run_until(done, [*command, url], seconds + 120)
    finally:
        os.unlink(lua.name)
    return parse_wrk(output)


def _run_until(done: Callable[[], bool], command: list[str], timeout: float) -> str:
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while wrk.poll() is None and not done() and time.monotonic() < deadline:
        time.sleep(0.25)
    if wrk.poll() is None:
        wrk.send_signal(signal.SIGINT)
    output, _errors = wrk.communicate(timeout=30)
    return output


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> WrkResult:
    def find(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else default

    errors = sum(
        int(count) for count in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
    )
    return WrkResult(
        requests_per_second=float(find(r"Requests/sec:\s+([\d.]+)")),
        requests=int(find(r"(\d+) requests in")),
        p50_ms=_milliseconds(find(r"50%\s+([\d.]+\w+)", "0ms")),
        p99_ms=_milliseconds(find(r"99%\s+([\d.]+\w+)", "0ms")),
        non_2xx_3xx=int(find(r"Non-2xx or 3xx responses: (\d+)")),
        errors=errors,
    )


def post_script(path: str, body: str, cookie: str, unique_fields: bool = False) -> str:
    """A wrk Lua script POSTing a form; each request from its own client address (X-Forwarded-For,
    as a proxy would set it), so per-address rate limits apply as they would to real supporters.
    With unique_fields, "{n}" in the body becomes a number unique to the request."""
    body_lua = body.replace("\\", "\\\\").replace('"', '\\"')
    return f"""
local counter = 0
local threads = {{}}
function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  -- thread_number is set per thread by setup().
  local n = thread_number * 10000000 + counter
  local address = string.format("10.%d.%d.%d", thread_number, math.floor(counter / 250) % 250,
    counter % 250 + 1)
  local body = "{body_lua}"
  {'body = string.gsub(body, "{n}", tostring(n))' if unique_fields else ""}
  return wrk.format("POST", "{path}", {{
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "{cookie}",
    ["X-Forwarded-For"] = address,
  }}, body)
end
"""


def limited_post_script(path: str, body: str, cookie: str, per_thread: int) -> str:
    """post_script, each thread stopping after `per_thread` responses (a fixed count of letters)."""
    return (
        post_script(path, body, cookie, unique_fields=True)
        + f"""
local responses = 0
function response(status, headers, body)
  responses = responses + 1
  if responses >= {per_thread} then wrk.thread:stop() end
end
"""
    )


def ratio_target(
    name: str, project: WrkResult, reference: WrkResult, least: float, p99_ms: float | None
) -> Figure:
    ratio = project.requests_per_second / reference.requests_per_second
    passed = ratio >= least and (p99_ms is None or project.p99_ms < p99_ms)
    target = f">= {least:.0%} of reference" + (f", p99 < {p99_ms:.0f} ms" if p99_ms else "")
    return Figure(
        name,
        f"{project.requests_per_second:,.0f} req/s, p50 {project.p50_ms:.0f} ms, "
        f"p99 {project.p99_ms:.0f} ms" + _failures(project),
        f"{reference.requests_per_second:,.0f} req/s, p50 {reference.p50_ms:.0f} ms, "
        f"p99 {reference.p99_ms:.0f} ms" + _failures(reference),
        ratio,
        target,
        passed and project.non_2xx_3xx == 0 and project.errors == 0,
    )


def _failures(result: WrkResult) -> str:
    if result.non_2xx_3xx or result.errors:
        return f" ({result.non_2xx_3xx} non-2xx/3xx, {result.errors} socket errors)"
    return ""
