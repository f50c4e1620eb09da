"""Checks a self-contained HTML page in a real headless Chromium and saves a screenshot.

Usage: check_page.py PAGE.html --screenshot OUT.png [--expect 'CSS_SELECTOR>=N' ...]
       [--timeout 20] [--max-load-ms MS] [--window 1600x900] [--dump-dom FILE]

The page is loaded from file://, and it is ready once it sets `document.body.dataset.ready
= "1"`. The check fails (exit 1) if it never does within --timeout seconds, if it logs an
error (an uncaught exception, console.error/assert, a Log error such as a failed load), if an
element #error has text, if an --expect (`selector>=N` or `selector==N`, counted with
querySelectorAll) does not hold, or if it took longer than --max-load-ms to become ready.

Why the Chrome DevTools Protocol over a pipe: `--remote-debugging-pipe` makes Chromium read
protocol commands from its fd 3 and write replies and events to its fd 4, as JSON messages
ended by a NUL byte. That needs no TCP port (nothing to pick, collide on or leak on a shared
CI machine, and no network), no WebSocket client, and no pip package (Selenium, Playwright,
pyppeteer and their browser downloads, which CI cannot fetch): only the standard library and
Debian's `chromium` (see install_chromium.sh). A reader thread collects the messages; every
wait is bounded by one global deadline, and the browser's whole process group and its temp
profile are removed on every exit path.
"""

import argparse
import base64
import ctypes
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Moves the pipes that subprocess set up robustly as stdin/stdout to fds 3 and 4, then
# gives the browser /dev/null and stderr instead (its exec keeps the pid, and the fds).
FD_SHIM = 'exec 3<&0 4>&1 </dev/null >&2; exec "$@"'
READY_JS = '(document.body && document.body.dataset.ready === "1") ? performance.now() : -1'
ERROR_ELEMENT_JS = '(() => { const e = document.getElementById("error"); return e ? e.textContent.trim() : null; })()'


class CDPError(Exception):
    """A protocol command failed, timed out, or the browser went away."""


class Browser:
    """A headless Chromium spoken to over --remote-debugging-pipe, with the errors it reports."""

    def __init__(self, executable, deadline):
        """Launches `executable` with a fresh profile; every wait ends by `deadline` (monotonic)."""
        self.deadline = deadline
        self.profile = tempfile.mkdtemp(prefix="check_page_profile_")
        self.errors, self.seen, self.first_error_at = [], set(), None
        self.replies, self.next_id, self.closed = {}, 0, False
        self.cond = threading.Condition()
        to_child, self.to_browser = os.pipe()
        self.from_browser, from_child = os.pipe()
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        args = [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", f"--user-data-dir={self.profile}",
                "--remote-debugging-pipe", "about:blank"]
        try:
            self.proc = subprocess.Popen(["/bin/sh", "-c", FD_SHIM, "sh", *args], stdin=to_child,
                                         stdout=from_child, stderr=self.log, start_new_session=True)
        except OSError:
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        finally:
            os.close(to_child)
            os.close(from_child)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        """Reader thread: splits the browser's output on NUL, files replies and records errors."""
        buffer = b""
        while True:
            try:
                chunk = os.read(self.from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            *messages, buffer = (buffer + chunk).split(b"\0")
            for raw in messages:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                with self.cond:
                    if "id" in message:
                        self.replies[message["id"]] = message
                        self.cond.notify_all()
                    else:
                        self._record(message.get("method"), message.get("params", {}))

    def _record(self, method, params):
        """Turns an error-reporting event into (text, location), once per distinct error."""
        if method == "Runtime.exceptionThrown":
            d = params["exceptionDetails"]
            detail = (d.get("exception") or {}).get("description", "").split("\n")[0]
            text = f"{d.get('text', 'Uncaught')} {detail}".strip()
            where = (d.get("url"), d.get("lineNumber"), d.get("columnNumber"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = f"console.{params['type']}: " + " ".join(
                str(a.get("value", a.get("description", a.get("type")))) for a in params.get("args", []))
            frames = (params.get("stackTrace") or {}).get("callFrames") or [{}]
            where = (frames[0].get("url"), frames[0].get("lineNumber"), frames[0].get("columnNumber"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            e = params["entry"]
            text = f"log ({e.get('source', '?')}): {e.get('text', '')}"
            where = (e.get("url"), e.get("lineNumber"), None)
        else:
            return
        url, line, column = where
        location = url or "?"
        location += f":{line + 1}" if line is not None else ""
        location += f":{column + 1}" if line is not None and column is not None else ""
        if (text, location) not in self.seen:
            self.seen.add((text, location))
            self.first_error_at = self.first_error_at or time.monotonic()
            self.errors.append((text, location))

    def send(self, method, params=None, session=None, timeout=10.0):
        """Sends one command and returns its result; raises CDPError on error, EOF or timeout."""
        with self.cond:
            self.next_id += 1
            ident = self.next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self.to_browser, data):]
        except OSError as err:
            raise CDPError(f"{method}: cannot write to the browser ({err})") from None
        until = min(time.monotonic() + timeout, self.deadline)
        with self.cond:
            while ident not in self.replies:
                left = until - time.monotonic()
                if self.closed or left <= 0:
                    why = "the browser exited" if self.closed else "no reply in time"
                    raise CDPError(f"{method}: {why}")
                self.cond.wait(left)
            reply = self.replies.pop(ident)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def evaluate(self, session, expression, timeout=5.0):
        """Evaluates `expression` in the page and returns its value; JS exceptions become CDPError."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           session, timeout)
        if "exceptionDetails" in result:
            d = result["exceptionDetails"]
            raise CDPError((d.get("exception") or {}).get("description") or d.get("text"))
        return result["result"].get("value")

    def close(self):
        """Asks the browser to quit, then kills its process group and removes the profile."""
        try:
            if self.proc.poll() is None and not self.closed:
                self.send("Browser.close", timeout=2.0)
                self.proc.wait(timeout=3)
        except (CDPError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        reap_descendants()
        for fd in (self.to_browser, self.from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def log_tail(self, lines=15):
        """The last lines of the browser's stderr, for failures to launch."""
        self.log.flush()
        with open(self.log.name, "rb") as f:
            kept = [line for line in f.read().splitlines() if b"dbus" not in line]
        return b"\n".join(kept[-lines:]).decode(errors="replace")


def become_subreaper():
    """Makes orphaned browser helpers (zygote, crashpad) our children, so that we reap them.

    Chromium's helpers outlive the browser for a moment, and crashpad leaves its process group;
    without this they are left to PID 1, which in some containers never reaps them.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass  # not Linux: the process-group kill alone has to do


def reap_descendants(timeout=5.0):
    """Kills and reaps every remaining child (all are the browser's), for up to `timeout` s."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        pids = [e for e in os.listdir("/proc") if e.isdigit()] if os.path.isdir("/proc") else []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == os.getpid():  # its parent
                        os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError, IndexError):
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return  # no children left
        time.sleep(0.05)


def find_browser():
    """Returns the path of the first Chromium on PATH, or exits with a clear error."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit(f"check_page: no browser found: none of {', '.join(BROWSERS)} is on PATH "
             "(run .ci/install_chromium.sh)")


def parse_expectation(text):
    """Splits 'selector>=N' or 'selector==N' into (selector, op, N)."""
    match = re.fullmatch(r"\s*(.+?)\s*(>=|==)\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected SELECTOR>=N or SELECTOR==N, got {text!r}")
    return match.group(1), match.group(2), int(match.group(3))


def parse_window(text):
    """Splits 'WIDTHxHEIGHT' into two ints."""
    match = re.fullmatch(r"(\d+)x(\d+)", text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1600x900, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def parse_args():
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("page", help="the HTML file to check")
    p.add_argument("--screenshot", required=True, help="where to write the PNG screenshot")
    p.add_argument("--expect", action="append", default=[], type=parse_expectation,
                   help="SELECTOR>=N or SELECTOR==N: how many elements the page must have")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for data-ready")
    p.add_argument("--max-load-ms", type=float, help="fail if ready later than this")
    p.add_argument("--window", default="1600x900", type=parse_window, help="viewport WIDTHxHEIGHT")
    p.add_argument("--dump-dom", help="write the page's outerHTML here")
    p.add_argument("--fragment", default="", help="a URL fragment to open the page with (after #)")
    return p.parse_args()


def open_page(browser, args, page):
    """Opens a tab of the --window size, navigates it to the page; returns (session, start time)."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Runtime", "Log", "Page"):
        browser.send(f"{domain}.enable", session=session)
    width, height = args.window
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
    started = time.monotonic()
    url = pathlib.Path(page).as_uri() + (f"#{args.fragment}" if args.fragment else "")
    nav = browser.send("Page.navigate", {"url": url}, session)
    if nav.get("errorText"):
        raise CDPError(f"navigation to {page} failed: {nav['errorText']}")
    return session, started


def wait_ready(browser, session, started, timeout):
    """Polls for data-ready until `timeout` s after `started` (or 1 s after the first error).

    Returns (load ms, performance.now() at ready), or (None, reason) if the page never got ready.
    """
    ready_by = min(started + timeout, browser.deadline - 5)
    while time.monotonic() < ready_by:
        with browser.cond:
            if browser.errors:  # the check fails anyway: wait a moment for more, not the timeout
                ready_by = min(ready_by, browser.first_error_at + 1.0)
        try:
            now = browser.evaluate(session, READY_JS, timeout=max(0.1, ready_by - time.monotonic()))
        except CDPError as err:
            if browser.closed or browser.proc.poll() is not None:
                raise
            if "no reply" in str(err):
                return None, "the page stopped answering (a script that never ends?)"
            now = -1  # the context is being replaced by the navigation: ask again
        if now is not None and now >= 0:
            return (time.monotonic() - started) * 1000, now
        time.sleep(0.02)
    early = ", stopped early as the page reported errors" if browser.errors else ""
    return None, f"it did not set document.body.dataset.ready = \"1\" (waited {time.monotonic() - started:.1f} s{early})"


def check(browser, args, page, failures, report):
    """Loads the page, waits for it, checks it, and saves the screenshot (and DOM)."""
    session, started = open_page(browser, args, page)
    load_ms, detail = wait_ready(browser, session, started, args.timeout)
    if load_ms is None:
        report.append(f"  ready: NO: {detail}")
        failures.append(f"not ready: {detail}")
        if "stopped answering" in detail:
            return  # nothing more can be asked of the page, not even a screenshot
    else:
        report.append(f"  ready: yes, after {load_ms:.0f} ms (performance.now() = {detail:.0f} ms)")
        if args.max_load_ms is not None and load_ms > args.max_load_ms:
            failures.append(f"ready after {load_ms:.0f} ms, more than --max-load-ms {args.max_load_ms:g}")
    error_text = browser.evaluate(session, ERROR_ELEMENT_JS)
    if error_text:
        report.append(f"  #error: {error_text}")
        failures.append(f"#error says: {error_text}")
    for selector, op, wanted in args.expect:
        try:
            count = browser.evaluate(session, f"document.querySelectorAll({json.dumps(selector)}).length")
        except CDPError as err:
            report.append(f"  expect {selector}{op}{wanted}: bad selector")
            failures.append(f"expect {selector}{op}{wanted}: bad selector: {str(err).splitlines()[0]}")
            continue
        held = count >= wanted if op == ">=" else count == wanted
        report.append(f"  expect {selector}{op}{wanted}: found {count} {'ok' if held else 'FAILED'}")
        if not held:
            failures.append(f"expected {selector}{op}{wanted}, found {count}")
    if args.dump_dom:
        write_file(args.dump_dom, browser.evaluate(session, "document.documentElement.outerHTML").encode())
        report.append(f"  dom: {args.dump_dom}")
    png = browser.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
    write_file(args.screenshot, base64.b64decode(png))
    report.append(f"  screenshot: {args.screenshot} ({args.window[0]}x{args.window[1]})")


def write_file(path, data):
    """Writes bytes to `path`, creating its parent folders."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    """Runs the check and prints the report; the exit code says whether the page passed."""
    args = parse_args()
    page = os.path.abspath(args.page)
    if not os.path.isfile(page):
        sys.exit(f"check_page: no such file: {page}")
    executable = find_browser()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("check_page: terminated"))
    deadline = time.monotonic() + args.timeout + 30  # launch, checks and screenshot included
    become_subreaper()
    failures, report, browser = [], [f"check_page: {page}"], None
    try:
        browser = Browser(executable, deadline)
        check(browser, args, page, failures, report)
    except CDPError as err:
        failures.append(f"browser: {err}")
        if browser.closed or browser.proc.poll() is not None:
            report.append("  browser stderr (tail):\n    " + browser.log_tail().replace("\n", "\n    "))
    finally:
        errors = list(browser.errors) if browser else []
        if browser:
            browser.close()
    report.append(f"  errors: {len(errors)}" if errors else "  errors: none")
    for text, location in errors:
        report.append(f"    {text}  [{location}]")
        failures.append(f"page error: {text} [{location}]")
    print("\n".join(report))
    if failures:
        print("FAIL: " + "\n      ".join(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
