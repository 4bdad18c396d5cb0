#!/usr/bin/env python3
"""Load a Digest-protected URL (or the same URL a few times) in headless Chromium.

Debian's chromium, started headless with a fresh profile and driven over the DevTools
protocol on a pipe (--remote-debugging-pipe: no port, no chromedriver, standard library
only). The credentials go in the URL's userinfo (http://USER:PASS@host/...), percent-encoded
as UTF-8; Chromium answers the 401 with them, as it would with what a person typed into its
login dialog, and keeps them (and the nonce) in the profile's cache for the next loads.

    python3 clients/chromium_client.py [--repeat N] [-v] URL USER PASS

Prints what digest_client.py prints: one line per load, "chromium GET <url> -> <status>" (the
status of the main document, as Chromium's network layer reports it), and with -v the
challenges seen, every Authorization Chromium sent for the document, Authentication-Info, and
the page's text percent-encoded ("<- body: ..."). Exit status 0 only if every load ended
with 200.
"""
import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-default-browser-check",
    "--remote-debugging-pipe",
]


# How a navigation that ended with the server's 401 fails.
AUTH_FAILURES = ("net::ERR_INVALID_AUTH_CREDENTIALS", "net::ERR_HTTP_RESPONSE_CODE_FAILURE")


def show(verbose, *a):
    if verbose:
        print("   ", *a)


def percent(data: bytes) -> str:
    return "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02X}" for b in data)


class Browser:
    """Chromium with the DevTools protocol on fds 3 (to it) and 4 (from it)."""

    def __init__(self, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # The child reads commands on fd 3 and writes answers and events on fd 4. Copies
        # first (above every pipe end), so that neither dup2 is a no-op that would leave
        # close-on-exec set; everything else of ours is close-on-exec.
        def fds():
            to_child, from_child = os.dup(to_r), os.dup(from_w)
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, close_fds=False,
        )
        os.close(to_r)
        os.close(from_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_w, json.dumps(message).encode() + b"\0")
        return self.wait(lambda m: m.get("id") == self.next_id)

    def read(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_r], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_r, 65536)
            if not chunk:
                raise EOFError("chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def wait(self, done, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            message = self.read(deadline)
            if "method" in message:
                self.events.append(message)
            if done(message):
                if "error" in message:
                    raise RuntimeError(f"DevTools: {message['error']}")
                return message

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=1, help="loads of the URL in one browser profile")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("url")
    ap.add_argument("user")
    ap.add_argument("password")
    args = ap.parse_args()

    parts = urllib.parse.urlsplit(args.url)
    userinfo = urllib.parse.quote(args.user, safe="") + ":" + urllib.parse.quote(args.password, safe="")
    with_credentials = parts._replace(netloc=f"{userinfo}@{parts.netloc}").geturl()

    profile = tempfile.mkdtemp(prefix="chromium-digest-")
    browser = None
    codes = []
    try:
        browser = Browser(profile)
        target = browser.send("Target.createTarget", {"url": "about:blank"})["result"]["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["result"]["sessionId"]
        browser.send("Network.enable", {}, session)
        browser.send("Page.enable", {}, session)
        for i in range(args.repeat):
            browser.events.clear()
            url = with_credentials if i == 0 else args.url
            frame = browser.send("Page.navigate", {"url": url}, session)["result"]
            failed = frame.get("errorText")
            if not failed:
                browser.wait(lambda m: m.get("method") == "Page.loadEventFired")
            elif not any(e.get("method") == "Network.loadingFailed" for e in browser.events):
                # The answer to Page.navigate may come before the network events of the
                # failed request: wait for them.
                try:
                    browser.wait(lambda m: m.get("method") == "Network.loadingFailed", timeout=5)
                except TimeoutError:
                    pass
            # The main document's request (Chromium keeps one request id across the 401
            # and the retry with credentials), and the status it ended with.
            documents = {e["params"]["requestId"] for e in browser.events
                         if e.get("method") == "Network.requestWillBeSent"
                         and e["params"].get("type") == "Document"
                         and e["params"].get("loaderId") == frame.get("loaderId")}
            statuses = []
            for event in browser.events:
                p = event.get("params", {})
                if event.get("method") == "Network.requestWillBeSentExtraInfo":
                    auth = {k.lower(): v for k, v in p.get("headers", {}).items()}.get("authorization")
                    if auth:
                        show(args.verbose, "-> Authorization:", auth)
                elif event.get("method") == "Network.responseReceivedExtraInfo":
                    code = p.get("statusCode")
                    headers = {k.lower(): v for k, v in p.get("headers", {}).items()}
                    for v in headers.get("www-authenticate", "").split("\n"):
                        if v:
                            show(args.verbose, f"<- {code} WWW-Authenticate: {v}")
                    if "authentication-info" in headers:
                        show(args.verbose, f"<- {code} Authentication-Info:", headers["authentication-info"])
                elif event.get("method") == "Network.responseReceived" and p.get("requestId") in documents:
                    # The response the page got (after the retry with credentials, if any):
                    # always reported, where the ExtraInfo events may be missing.
                    statuses.append(p["response"]["status"])
            status = statuses[-1] if statuses else None
            if failed:
                # A 401 that Chromium does not answer (a challenge it cannot do) ends the
                # navigation with ERR_HTTP_RESPONSE_CODE_FAILURE (the 401 has no body to show),
                # a refused password with ERR_INVALID_AUTH_CREDENTIALS (headless has no login
                # dialog to ask again): the server's last answer is the status. Anything else
                # is an error.
                show(args.verbose, "navigation failed:", failed)
                if not (failed in AUTH_FAILURES and status == 401):
                    raise RuntimeError(f"navigation failed: {failed} (statuses {statuses})")
            else:
                text = browser.send("Runtime.evaluate", {"expression": "document.body ? document.body.innerText : ''",
                                                         "returnByValue": True}, session)
                body = text["result"]["result"].get("value", "")
                show(args.verbose, "<- body:", percent(body.encode()))
            codes.append(status)
            print(f"chromium GET {args.url} -> {status}")
    except Exception as e:  # report, do not crash: an error is a data point
        print(f"chromium GET {args.url} -> ERROR {type(e).__name__}: {e}")
        return 2
    finally:
        if browser:
            browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    return 0 if codes and all(c == 200 for c in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
