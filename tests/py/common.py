"""Shared by the interop scripts: an xmlrpc.client proxy for unix:// or
http:// servers (with optional basic auth), masking of what legitimately
varies between runs and daemons (pids, times, the sandbox path, random log
names), and one JSON line per step so the Rust test can diff two runs.
"""

import http.client
import json
import os
import re
import socket
import sys
import time
import urllib.parse
import xmlrpc.client

SANDBOX = os.environ.get("SANDBOX", "")
SERVER_URL = os.environ.get("SERVER_URL", "")


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.unix_path)


class UnixTransport(xmlrpc.client.Transport):
    """The stock transport (HTTP/1.1, keep-alive) over a unix socket."""

    def __init__(self, path):
        super().__init__()
        self.unix_path = path

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        _, self._extra_headers, _ = self.get_host_info(host)
        self._connection = host, UnixConnection(self.unix_path)
        return self._connection[1]


def proxy(url, user=None, password=None):
    """A ServerProxy for `unix:///path` or `http://host:port`."""
    auth = ""
    if user is not None:
        auth = "%s:%s@" % (urllib.parse.quote(user, safe=""),
                           urllib.parse.quote(password or "", safe=""))
    if url.startswith("unix://"):
        return xmlrpc.client.ServerProxy(
            "http://%slocalhost/RPC2" % auth,
            transport=UnixTransport(url[len("unix://"):]))
    host = url[len("http://"):].rstrip("/")
    return xmlrpc.client.ServerProxy("http://%s%s/RPC2" % (auth, host))


def from_env():
    return proxy(os.environ["SERVER_URL"], os.environ.get("SERVER_USER"),
                 os.environ.get("SERVER_PASSWORD"))


_TEXT_MASKS = [
    (re.compile(r"---supervisor-[A-Za-z0-9_]+\.log"), "---supervisor-<rand>.log"),
    (re.compile(r"pid \d+, uptime (\d+ days?, )?\d+:\d\d:\d\d"), "pid <pid>, uptime <uptime>"),
    (re.compile(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M"), "<date>"),
    (re.compile(r"pid \d+"), "pid <pid>"),
    (re.compile(r" at 0x[0-9a-f]+>"), " at 0x0>"),
]


def mask_text(text):
    if SERVER_URL:
        text = text.replace(SERVER_URL, "<URL>")
    if SANDBOX:
        text = text.replace(SANDBOX, "<DIR>")
    for pattern, replacement in _TEXT_MASKS:
        text = pattern.sub(replacement, text)
    return text


VOLATILE_INTS = ("pid", "start", "stop", "now")


def mask(value, key=None):
    if isinstance(value, dict):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if key in VOLATILE_INTS and value != 0:
            return "<%s>" % key
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, xmlrpc.client.Binary):
        return {"base64": mask_text(value.data.decode("latin-1"))}
    return repr(value)


def outcome(fn, *args):
    """(raw result or None, masked outcome as a JSON-able dict)."""
    try:
        raw = fn(*args)
        return raw, {"ok": mask(raw)}
    except xmlrpc.client.Fault as fault:
        return None, {"fault": [fault.faultCode, mask_text(fault.faultString)]}
    except xmlrpc.client.ProtocolError as error:
        return None, {"http": error.errcode}
    except Exception as error:  # what the client library itself refuses
        return None, {"error": "%s: %s" % (type(error).__name__, error)}


def emit(label, result):
    sys.stdout.write(json.dumps([label, result], sort_keys=True) + "\n")
    sys.stdout.flush()


def step(label, fn, *args):
    """Calls fn(*args), prints the masked outcome, returns the raw result."""
    raw, result = outcome(fn, *args)
    emit(label, result)
    return raw


def wait_for(what, probe, timeout=20.0):
    deadline = time.time() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.time() > deadline:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.02)


def statename(server, name):
    return server.supervisor.getProcessInfo(name)["statename"]


def wait_state(server, name, *states, timeout=20.0):
    wait_for("%s in %s" % (name, states),
             lambda: statename(server, name) in states, timeout)
