"""Open a rendered report in headless Chromium and report what a reader would hit.

Uses the DevTools protocol over a websocket (``websocket-client`` comes with Jupyter): navigate to
the page, collect uncaught JavaScript exceptions and console errors, and count images that failed
to load or render. Used by the tests that guard the HTML report.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--remote-debugging-port=0", "--allow-file-access-from-files")


@dataclass
class PageCheck:
    """What Chromium saw on one page."""

    url: str
    title: str = ""
    js_errors: list[str] = field(default_factory=list)
    images: int = 0
    broken_images: int = 0
    text_length: int = 0


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


class _Cdp:
    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def drain(self, seconds: float) -> None:
        end = time.time() + seconds
        self.ws.settimeout(0.2)
        while time.time() < end:
            try:
                self.events.append(json.loads(self.ws.recv()))
            except Exception:  # timeout: nothing more yet
                continue
        self.ws.settimeout(30)


def check_pages(paths: list[Path], chromium: str | None = None, settle: float = 1.5) -> list[PageCheck]:
    """Load each HTML file in one headless Chromium and report errors and broken images."""
    import urllib.request

    chromium = chromium or find_chromium()
    if chromium is None:
        raise RuntimeError("Chromium not found (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="study-chromium-")
    proc = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        port = None
        deadline = time.time() + 30
        while port is None and time.time() < deadline:
            line = proc.stderr.readline()
            if m := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
                port = int(m.group(1))
        if port is None:
            raise RuntimeError("Chromium did not start its DevTools endpoint")
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        cdp = _Cdp(page["webSocketDebuggerUrl"])
        cdp.call("Runtime.enable")
        cdp.call("Page.enable")
        out = []
        for path in paths:
            url = Path(path).resolve().as_uri()
            cdp.events.clear()
            cdp.call("Page.navigate", url=url)
            cdp.drain(settle)
            check = PageCheck(url)
            for ev in cdp.events:
                if ev.get("method") == "Runtime.exceptionThrown":
                    details = ev["params"]["exceptionDetails"]
                    check.js_errors.append(details.get("exception", {}).get("description") or details.get("text", ""))
                elif ev.get("method") == "Runtime.consoleAPICalled" and ev["params"].get("type") == "error":
                    check.js_errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                                    for a in ev["params"].get("args", [])))
            probe = cdp.call("Runtime.evaluate", returnByValue=True, expression=(
                "JSON.stringify({title: document.title, images: document.images.length,"
                " broken: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length,"
                " text: document.body ? document.body.innerText.length : 0})"))
            info = json.loads(probe["result"]["value"])
            check.title, check.images, check.broken_images, check.text_length = (
                info["title"], info["images"], info["broken"], info["text"])
            out.append(check)
        return out
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
