#!/usr/bin/env python3
"""Opens a report.html in headless Chromium and fails on what a reader would
see go wrong: an error on the browser's console (a script error, a resource
that does not load), an image that does not load, a chart drawn at no size,
or a page wider than its layout, at a window exactly as wide as the layout.

Drives Chromium through chromedriver's W3C WebDriver protocol (plain HTTP,
so only Python's standard library is needed); the console is read with
chromedriver's browser log (goog:loggingPrefs).

    report-check.py [--chromedriver PATH] [--chromium PATH] REPORT.html
    report-check.py --self-test     # a page with every fault: each must be caught

The layout's width is the body's max-width stated in the page's own style
sheet (1100 px in src/output/html.rs). Exit status: 0 all checks passed, 1 a
check failed, 2 the browser could not be driven.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HEIGHT = 900  # the window's height: any; only the width matters

# What the page shows, measured in the page.
MEASURE = """
const images = Array.from(document.images).map(img => ({
    src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth }));
const svgs = Array.from(document.querySelectorAll('svg')).map(svg => {
    const r = svg.getBoundingClientRect();
    return { label: svg.getAttribute('aria-label') || '(no label)', width: r.width, height: r.height };
});
const root = document.documentElement;
// The widest element's right edge, to name what overflows.
let widest = null, right = 0;
for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > right) { right = r.right; widest = el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''); }
}
return { viewport: root.clientWidth, scrollWidth: root.scrollWidth, images, svgs,
         widest, right, title: document.title };
"""


class DriverError(Exception):
    """The browser could not be driven (not a finding about the page)."""


class WebDriver:
    def __init__(self, chromedriver, chromium):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = tempfile.NamedTemporaryFile(prefix="chromedriver-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [chromedriver, f"--port={self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        self.session = None
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.call("GET", "/status", timeout=2)["ready"]:
                    break
            except (OSError, DriverError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise DriverError(f"chromedriver did not start (see {self.log.name})")
            time.sleep(0.2)
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--hide-scrollbars",
                         f"--window-size=1100,{HEIGHT}"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }
        answer = self.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}}, timeout=60)
        self.session = answer["sessionId"]

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.load(r)["value"]
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:500]
            raise DriverError(f"{method} {path}: HTTP {e.code}: {detail}") from None

    def s(self, method, path, body=None, timeout=30):
        return self.call(method, f"/session/{self.session}{path}", body, timeout)

    def open(self, url):
        self.s("POST", "/url", {"url": url}, timeout=60)

    def run(self, script):
        return self.s("POST", "/execute/sync", {"script": script, "args": []})

    def console(self):
        """The browser's console messages since the last call."""
        return self.s("POST", "/se/log", {"type": "browser"})

    def set_viewport(self, width):
        """Sizes the window so that the page's viewport is `width` px wide."""
        outer = width
        for _ in range(3):
            self.s("POST", "/window/rect", {"width": outer, "height": HEIGHT})
            inner = self.run("return document.documentElement.clientWidth;")
            if inner == width:
                return
            outer += width - inner
        raise DriverError(f"cannot make the viewport {width} px wide (it is {inner} px)")

    def close(self):
        try:
            if self.session:
                self.s("DELETE", "", timeout=20)
        except (OSError, DriverError):
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


def layout_width(html):
    """The body's max-width in px, as the page's style sheet states it."""
    m = re.search(r"body\s*\{[^}]*max-width:\s*(\d+)px", html)
    if not m:
        raise DriverError("the page states no max-width for its body")
    return int(m.group(1))


def check(driver, path):
    """The problems of the page at `path` (an empty list: none)."""
    html = Path(path).read_text(encoding="utf-8")
    width = layout_width(html)
    driver.set_viewport(width)
    driver.console()  # anything logged before this page is not its own
    driver.open(Path(path).resolve().as_uri())
    # Everything is inline: loaded once the document is; wait for that.
    deadline = time.monotonic() + 30
    while driver.run("return document.readyState;") != "complete":
        if time.monotonic() > deadline:
            return ["the page did not finish loading within 30 s"]
        time.sleep(0.1)
    m = driver.run(MEASURE)
    problems = []
    for entry in driver.console():
        if entry.get("level") == "SEVERE":
            problems.append(f"console error: {entry.get('message')}")
    for img in m["images"]:
        if not img["complete"] or img["width"] == 0:
            problems.append(f"an image that does not load: {img['src'][:200]}")
    for svg in m["svgs"]:
        if svg["width"] == 0 or svg["height"] == 0:
            problems.append(f"a chart drawn at no size: {svg['label']}")
    if m["viewport"] != width:
        problems.append(f"the viewport is {m['viewport']} px wide, not {width}")
    if m["scrollWidth"] > width:
        problems.append(
            f"the page is {m['scrollWidth']} px wide, wider than its {width} px layout "
            f"(the widest element, {m['widest']}, ends at {m['right']:.0f} px)")
    print(f"report-check: {path}: \"{m['title']}\", {width} px layout, "
          f"{m['scrollWidth']} px wide, {len(m['images'])} images, {len(m['svgs'])} charts")
    return problems


SELF_TEST_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>faults</title>
<style>body { max-width: 1100px; margin: 0 auto; }</style></head>
<body><p>A page with one fault of each kind.</p>
<img src="missing.png" alt="missing">
<div style="width: 1500px">too wide</div>
<svg width="0" height="0"></svg>
<script>console.error("a console error");</script>
</body></html>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", nargs="?", help="the report.html to check")
    ap.add_argument("--self-test", action="store_true",
                    help="check a page with one fault of each kind: all must be found")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "chromedriver")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    if not args.self_test and not args.report:
        ap.error("name a report.html, or --self-test")
    try:
        driver = WebDriver(args.chromedriver, args.chromium)
    except (OSError, DriverError) as e:
        print(f"report-check: cannot drive the browser: {e}", file=sys.stderr)
        return 2
    try:
        if args.self_test:
            with tempfile.TemporaryDirectory() as d:
                page = Path(d) / "faults.html"
                page.write_text(SELF_TEST_PAGE, encoding="utf-8")
                problems = check(driver, page)
            want = ["console error: ", "an image that does not load", "a chart drawn at no size",
                    "wider than its 1100 px layout"]
            missed = [w for w in want if not any(w in p for p in problems)]
            for p in problems:
                print(f"report-check: self-test found: {p}")
            if missed:
                print(f"report-check: FAIL: the self-test page's faults not found: {missed}",
                      file=sys.stderr)
                return 1
            print("report-check: self-test: every fault found")
            return 0
        problems = check(driver, args.report)
    except (OSError, DriverError) as e:
        print(f"report-check: cannot drive the browser: {e}", file=sys.stderr)
        return 2
    finally:
        driver.close()
    for p in problems:
        print(f"report-check: FAIL: {p}", file=sys.stderr)
    if not problems:
        print("report-check: no console error, every image loads, no chart of no size, "
              "nothing wider than the layout")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
