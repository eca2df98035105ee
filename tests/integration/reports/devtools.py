"""A real headless Chromium driven over the DevTools protocol, with no dependency but the browser.

Chromium speaks the protocol on a pipe (``--remote-debugging-pipe``: it reads
commands from fd 3 and writes messages to fd 4, each a JSON object ended by a NUL
byte), so no port is opened and no websocket client is needed. Every host name
resolves to nothing (``--host-resolver-rules``), so a page that reached for the
network would fail loudly as well as show in the recorded requests.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "no Chromium on PATH: run 'make install' (installs Debian's chromium with apt-get), "
    "or 'apt-get install chromium', or put a chromium binary on PATH"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)
TIMEOUT_S = 30.0


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def require_browser() -> str:
    """The browser's path; skip without one, or fail when CI demands it
    (``SPIKEKIT_REQUIRE_BROWSER=1``)."""
    browser = find_browser()
    if browser is not None:
        return browser
    if os.environ.get("SPIKEKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SPIKEKIT_REQUIRE_BROWSER=1 but {INSTALL_HINT}")
    pytest.skip(INSTALL_HINT)


class DevToolsError(RuntimeError):
    pass


# exec the browser with the pipe's ends as fds 3 and 4 (Popen cannot renumber them)
_ON_FDS_3_AND_4 = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.close(int(sys.argv[1])); os.close(int(sys.argv[2])); os.execv(sys.argv[3], sys.argv[3:])"
)


def _high_fd(fd: int) -> int:
    """``fd`` moved to 10 or above, clear of the 3 and 4 the browser gets."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


@dataclass
class PageLoad:
    """What the browser saw while loading a page."""

    url: str
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    failed: list[str] = field(default_factory=list)  # net errors
    console: list[str] = field(default_factory=list)  # console.error / assert
    exceptions: list[str] = field(default_factory=list)  # uncaught script errors
    log_errors: list[str] = field(default_factory=list)  # the browser's own error log


class Chromium:
    """One headless Chromium process with one page. Use as a context manager."""

    def __init__(self, executable: str, profile: Path, log: Path, width: int = 1280) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        to_browser_r, from_browser_w = _high_fd(to_browser_r), _high_fd(from_browser_w)
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [
                    *(
                        sys.executable,
                        "-c",
                        _ON_FDS_3_AND_4,
                        str(to_browser_r),
                        str(from_browser_w),
                    ),
                    *(executable, *FLAGS, f"--user-data-dir={profile}"),
                    *(f"--window-size={width},900", "about:blank"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                pass_fds=(to_browser_r, from_browser_w),
                start_new_session=True,  # the browser's helpers die with their group in close()
            )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.session = ""

    def __enter__(self) -> Chromium:
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
                "sessionId"
            ]
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- protocol ----------------------------------------------------------------------

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            answer = self._read(deadline)
            if answer is None:
                raise DevToolsError(f"{method}: no answer within {TIMEOUT_S:.0f} s")
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise DevToolsError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            if "method" in answer:
                self._events.append(answer)

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, self.session, **params)

    def _read(self, deadline: float) -> dict[str, Any] | None:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                return None
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise DevToolsError(f"the browser exited (code {self.process.poll()})")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(line)
        return message

    def _drain(self, until: float) -> None:
        while (message := self._read(until)) is not None:
            self._events.append(message)

    # -- what the tests use ------------------------------------------------------------

    def load(self, url: str, settle_s: float = 0.5) -> PageLoad:
        """Open ``url`` and wait for its load event, then ``settle_s`` more for late requests."""
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.page(f"{domain}.enable")
        self._events.clear()
        self.page("Page.navigate", url=url)
        deadline = time.monotonic() + TIMEOUT_S
        while not any(e["method"] == "Page.loadEventFired" for e in self._events):
            message = self._read(deadline)
            if message is None:
                raise DevToolsError(f"{url} did not load within {TIMEOUT_S:.0f} s")
            self._events.append(message)
        self._drain(time.monotonic() + settle_s)
        seen = PageLoad(url)
        for event in self._events:
            params = event.get("params", {})
            match event["method"]:
                case "Network.requestWillBeSent":
                    seen.requests.append(params["request"]["url"])
                case "Network.loadingFailed":
                    seen.failed.append(f"{params.get('type')}: {params.get('errorText')}")
                case "Runtime.consoleAPICalled" if params["type"] in ("error", "assert"):
                    args = [str(a.get("value", a.get("description", ""))) for a in params["args"]]
                    seen.console.append(" ".join(args))
                case "Runtime.exceptionThrown":
                    details = params["exceptionDetails"]
                    seen.exceptions.append(
                        details.get("exception", {}).get("description", details["text"])
                    )
                case "Log.entryAdded" if params["entry"]["level"] == "error":
                    entry = params["entry"]
                    seen.log_errors.append(f"{entry['text']} {entry.get('url', '')}".strip())
        return seen

    def evaluate(self, expression: str) -> Any:
        answer = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise DevToolsError(f"{expression!r} threw {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def screenshot(self, clip: dict[str, float] | None = None) -> bytes:
        """A PNG of ``clip`` (CSS pixels of the page), or of the whole page."""
        if clip is None:
            size = self.page("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
        answer = self.page(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={**clip, "scale": 1},
        )
        return base64.b64decode(answer["data"])

    def close(self) -> None:
        """Close the browser; kill its process group if it does not go within 5 s."""
        try:
            if self.process.poll() is None:
                self.call("Browser.close")
        except (DevToolsError, OSError):
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # helpers (zygote, renderer) too
        self.process.wait(timeout=5)
        deadline = time.monotonic() + 5
        with contextlib.suppress(ProcessLookupError):
            while time.monotonic() < deadline:  # until the last helper is gone
                os.killpg(self.process.pid, 0)
                time.sleep(0.05)
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
