"""Headless Chromium driven over the DevTools protocol (CDP) with ``websockets``.

Debian's ``chromium`` package is the browser. `make test` (and `.ci/run`) install it
beforehand through scripts/bootstrap.sh; run directly without it, the test fails with one
line saying how to install it.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = (1600, 2900)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1600,2000",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
)


def ensure_chromium() -> Path:
    """Return Debian's chromium (installed by scripts/bootstrap.sh); otherwise raise."""
    if CHROMIUM.exists():
        return CHROMIUM
    raise RuntimeError(
        "headless Chromium is needed for the dashboard browser test: run `make test` "
        "(installs it as root) or `sudo apt-get install -y chromium`"
    )


class Browser:
    """One headless Chromium with a fresh profile and one page, driven through CDP."""

    def __init__(self) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="subway-chromium-"))
        self.process = subprocess.Popen(
            [
                str(ensure_chromium()),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port = self._devtools_port()
        pages = [
            t
            for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            if t["type"] == "page"
        ]
        self.ws: ClientConnection = connect(
            pages[0]["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024
        )
        self._ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Runtime.enable")
        # A viewport tall enough for the whole dashboard: capturing beyond the viewport
        # resizes it, and Superset re-lays out (and blanks) its grid on a resize.
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=VIEWPORT[0],
            height=VIEWPORT[1],
            deviceScaleFactor=1,
            mobile=False,
        )

    def _devtools_port(self, timeout: float = 60.0) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with code {self.process.returncode}")
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().splitlines()[0])
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one CDP command and return its result (events before it are dropped)."""
        message_id = next(self._ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=120))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (awaiting promises) and return its JSON value."""
        result = self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'", timeout=120)

    def wait_for(self, condition: str, timeout: float) -> None:
        """Poll a JavaScript condition until it is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"Boolean({condition})"):
                return
            time.sleep(0.5)
        raise TimeoutError(f"page condition not met within {timeout:.0f}s: {condition}")

    def add_script_on_new_document(self, source: str) -> None:
        """Run ``source`` in every page before the page's own scripts (e.g. to watch fetch)."""
        self.send("Page.addScriptToEvaluateOnNewDocument", source=source)

    def click(self, element: str) -> None:
        """Click with the mouse, as a person does, the middle of the element that the
        JavaScript expression ``element`` returns; refused if something else covers it."""
        point = self.evaluate(f"""(() => {{
          const el = {element};
          if (!el) return null;
          let r = el.getBoundingClientRect();
          if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {{
            el.scrollIntoView({{block: 'center', inline: 'center'}});
            r = el.getBoundingClientRect();
          }}
          const x = r.left + r.width / 2, y = r.top + r.height / 2;
          const hit = document.elementFromPoint(x, y);
          return {{x, y, hit: !!hit && (el === hit || el.contains(hit))}};
        }})()""")
        if point is None:
            raise RuntimeError(f"nothing to click: {element}")
        if not point["hit"]:
            raise RuntimeError(f"covered by another element, not clicked: {element}")
        x, y = point["x"], point["y"]
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def press_key(self, key: str, code: str, key_code: int) -> None:
        """Press and release one key (e.g. ``"Escape", "Escape", 27``)."""
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
            )

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the viewport (which is sized to hold the whole dashboard)."""
        shot = self.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)
