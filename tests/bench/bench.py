#!/usr/bin/env python3
"""Side-by-side benchmarks: our supervisord against Python Supervisor 4.3.

Each scenario runs both daemons on the same config in one run and prints
the figures with their ratio. Nothing here asserts a time; it measures.

Usage: tests/bench/run [scenario ...]
Scenarios: idle, rpc, flood, chatter (default: all).
Environment: SUPERVISOR_BIN (our binary), SUPERVISOR_PY_BIN (the venv's bin).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import multiprocessing
import xmlrpc.client


def from_environment(name):
    """A path tests/bench/run exports; no default, so no guessed path."""
    value = os.environ.get(name)
    if not value:
        sys.exit(name + " is not set: run the benchmarks through tests/bench/run, "
                 "which builds the release binary and installs Python Supervisor 4.3")
    return value


OURS = from_environment("SUPERVISOR_BIN")
PYBIN = from_environment("SUPERVISOR_PY_BIN")
FLOOD_BYTES = int(os.environ.get("FLOOD_BYTES", str(1 << 30)))


def wait_for(what, probe, timeout=60.0):
    deadline = time.time() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.time() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.05)


class UnixHTTP(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        import http.client

        path = self.path

        class Conn(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)

        return Conn("localhost")


def proxy(sock):
    return xmlrpc.client.ServerProxy("http://localhost", transport=UnixHTTP(sock))


class Daemon:
    """One supervisord (ours or Python's) in its own directory."""

    def __init__(self, kind, programs, tmp):
        self.kind = kind
        self.dir = os.path.join(tmp, kind)
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "s.sock")
        conf = (
            "[unix_http_server]\nfile=%(d)s/s.sock\n\n"
            "[supervisord]\nlogfile=%(d)s/supervisord.log\npidfile=%(d)s/supervisord.pid\n"
            "childlogdir=%(d)s\nloglevel=info\nminfds=4096\n\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        ) % {"d": self.dir}
        self.conf = os.path.join(self.dir, "supervisord.conf")
        with open(self.conf, "w") as f:
            f.write(conf + programs.replace("%DIR%", self.dir))
        if kind == "ours":
            cmd = [OURS, "supervisord", "-n", "-c", self.conf]
        else:
            cmd = [os.path.join(PYBIN, "supervisord"), "-n", "-c", self.conf]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.rpc = proxy(self.sock)
        wait_for(kind + " to answer", self._answers)

    def _answers(self):
        try:
            return self.rpc.supervisor.getState()
        except Exception:
            return None

    def all_running(self, count):
        def probe():
            infos = self.rpc.supervisor.getAllProcessInfo()
            return len([i for i in infos if i["statename"] in ("RUNNING", "EXITED")]) >= count
        wait_for("%d processes up" % count, probe, timeout=120)

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def status_field(self, name):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        return 0

    def cpu_ticks(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def ratio(python, ours, higher_is_better):
    if not python or not ours:
        return "n/a"
    r = ours / python if higher_is_better else python / ours
    return "%.1fx" % r


def row(name, python, ours, unit, higher_is_better):
    print("| %-44s | %12s | %12s | %8s |" % (name, fmt(python, unit), fmt(ours, unit), ratio(python, ours, higher_is_better)))


def fmt(v, unit):
    if isinstance(v, float):
        return "%.1f %s" % (v, unit)
    return "%s %s" % (v, unit)


def header(title):
    print()
    print("### " + title)
    print("| %-44s | %12s | %12s | %8s |" % ("measure", "Python 4.3", "ours", "ours is"))
    print("|%s|%s|%s|%s|" % ("-" * 46, "-" * 14, "-" * 14, "-" * 10))


def scenario_idle(tmp):
    """100 sleeping programs: RSS, threads, CPU and wakeups while idle."""
    programs = "".join("[program:p%03d]\ncommand=sleep 100000\nstartsecs=0\n\n" % i for i in range(100))
    header("Idle daemon with 100 `sleep` programs")
    results = {}
    for kind in ("python", "ours"):
        d = Daemon(kind, programs, tmp)
        try:
            d.all_running(100)
            time.sleep(3)
            ticks0 = d.cpu_ticks()
            switches0 = d.status_field("voluntary_ctxt_switches") + d.status_field("nonvoluntary_ctxt_switches")
            time.sleep(10)
            ticks = d.cpu_ticks() - ticks0
            switches = d.status_field("voluntary_ctxt_switches") + d.status_field("nonvoluntary_ctxt_switches") - switches0
            results[kind] = (d.rss_kib(), d.status_field("Threads"), ticks, switches)
        finally:
            d.stop()
    row("RSS (VmRSS)", results["python"][0], results["ours"][0], "KiB", False)
    row("threads", results["python"][1], results["ours"][1], "", False)
    row("CPU ticks over 10 s idle (1 tick = 10 ms)", results["python"][2], results["ours"][2], "", False)
    row("main-thread context switches over 10 s", results["python"][3], results["ours"][3], "", False)


def _client(args):
    sock, body, seconds = args
    request = (
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % len(body)
    ).encode() + body
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    count = 0
    deadline = time.time() + seconds
    buf = b""
    while time.time() < deadline:
        s.sendall(request)
        # Read one response (Content-Length framed).
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                s.close()
                s = socket.socket(socket.AF_UNIX)
                s.connect(sock)
                buf = b""
                break
            buf += chunk
        else:
            head, rest = buf.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(rest) < length:
                rest += s.recv(65536)
            buf = rest[length:]
            count += 1
            if b"connection: close" in head.lower():
                s.close()
                s = socket.socket(socket.AF_UNIX)
                s.connect(sock)
                buf = b""
    s.close()
    return count


def scenario_rpc(tmp):
    """getState and getAllProcessInfo (100 programs), 1 and 8 clients."""
    programs = "".join("[program:p%03d]\ncommand=sleep 100000\nstartsecs=0\n\n" % i for i in range(100))
    seconds = 5
    header("XML-RPC requests per second (100 programs, unix socket, keep-alive)")
    results = {}
    for kind in ("python", "ours"):
        d = Daemon(kind, programs, tmp)
        try:
            d.all_running(100)
            for method in ("supervisor.getState", "supervisor.getAllProcessInfo"):
                body = xmlrpc.client.dumps((), method).encode()
                for clients in (1, 8):
                    with multiprocessing.Pool(clients) as pool:
                        counts = pool.map(_client, [(d.sock, body, seconds)] * clients)
                    results[(kind, method, clients)] = sum(counts) / seconds
        finally:
            d.stop()
    for method in ("supervisor.getState", "supervisor.getAllProcessInfo"):
        for clients in (1, 8):
            row(
                "%s, %d client%s" % (method.split(".")[1], clients, "s" if clients > 1 else ""),
                results[("python", method, clients)],
                results[("ours", method, clients)],
                "req/s",
                True,
            )


def captured_bytes(logdir):
    total = 0
    for name in os.listdir(logdir):
        if name.startswith("flood.log"):
            try:
                total += os.path.getsize(os.path.join(logdir, name))
            except OSError:
                pass
    return total


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def scenario_flood(tmp):
    """A child writing FLOOD_BYTES to stdout as fast as it can.

    Disk writes dominate and vary run to run, so each figure is the median
    of ROUNDS runs, and the baseline is measured between them."""
    rounds = int(os.environ.get("FLOOD_ROUNDS", "3"))
    mib = FLOOD_BYTES / (1 << 20)
    header("Capturing %d MiB of child stdout (median of %d runs)" % (mib, rounds))
    base_file = os.path.join(tmp, "baseline.out")

    def baseline_once():
        subprocess.run("sync", shell=True)
        t0 = time.time()
        subprocess.run("head -c %d /dev/zero | cat > %s" % (FLOOD_BYTES, base_file), shell=True, check=True)
        speed = mib / (time.time() - t0)
        os.remove(base_file)
        return speed

    baselines = []
    for label, maxbytes, backups in (("no rotation", "0", "0"), ("rotation at 50MB", "50MB", "30")):
        speeds = {"python": [], "ours": []}
        peak = {"python": 0, "ours": 0}
        programs = (
            "[program:flood]\ncommand=head -c %d /dev/zero\nautostart=false\nstartsecs=0\nautorestart=false\n"
            "stdout_logfile=%%DIR%%/flood.log\nstdout_logfile_maxbytes=%s\nstdout_logfile_backups=%s\n\n"
            % (FLOOD_BYTES, maxbytes, backups)
        )
        for _ in range(rounds):
            baselines.append(baseline_once())
            for kind in ("python", "ours"):
                d = Daemon(kind, programs, tmp)
                try:
                    subprocess.run("sync", shell=True)
                    t0 = time.time()
                    d.rpc.supervisor.startProcess("flood", False)
                    top = 0
                    while captured_bytes(d.dir) < FLOOD_BYTES:
                        top = max(top, d.rss_kib())
                        if time.time() - t0 > 600:
                            raise RuntimeError("flood not captured in 10 minutes")
                        time.sleep(0.005)
                    speeds[kind].append(mib / (time.time() - t0))
                    peak[kind] = max(peak[kind], top)
                finally:
                    d.stop()
                    for name in os.listdir(d.dir):
                        if name.startswith("flood.log"):
                            os.remove(os.path.join(d.dir, name))
        baseline = median(baselines)
        row("MiB/s, " + label, median(speeds["python"]), median(speeds["ours"]), "MiB/s", True)
        print("| %-44s | %12s | %12s | %8s |" % (
            "  of the baseline (%.0f MiB/s)" % baseline,
            "%.2f" % (median(speeds["python"]) / baseline),
            "%.2f" % (median(speeds["ours"]) / baseline), ""))
        row("peak RSS during the flood, " + label, peak["python"], peak["ours"], "KiB", False)


def scenario_chatter(tmp):
    """100 programs printing a line every 10 ms: the daemon's CPU share."""
    programs = "".join(
        "[program:c%03d]\ncommand=sh -c 'while :; do echo line $$; sleep 0.01; done'\nstartsecs=0\n"
        "stdout_logfile=%%DIR%%/c%03d.log\n\n" % (i, i)
        for i in range(100)
    )
    header("100 programs each printing a line every 10 ms")
    results = {}
    for kind in ("python", "ours"):
        d = Daemon(kind, programs, tmp)
        try:
            d.all_running(100)
            time.sleep(2)
            ticks0 = d.cpu_ticks()
            time.sleep(10)
            results[kind] = (d.cpu_ticks() - ticks0) / 10.0  # ticks/s = % of one core
        finally:
            d.stop()
    row("daemon CPU, % of one core", results["python"], results["ours"], "%", False)


def scenario_respawn(tmp):
    """A RUNNING child is killed: how long until its replacement runs."""
    programs = "[program:r]\ncommand=sleep 100000\nstartsecs=0\nautorestart=true\n\n"
    header("Respawn: SIGKILL a running child, time until a new pid is RUNNING (median of 20)")
    results = {}
    for kind in ("python", "ours"):
        d = Daemon(kind, programs, tmp)
        try:
            d.all_running(1)
            times = []
            for _ in range(20):
                old = d.rpc.supervisor.getProcessInfo("r")["pid"]
                start = time.monotonic()
                os.kill(old, signal.SIGKILL)

                def respawned():
                    info = d.rpc.supervisor.getProcessInfo("r")
                    return info["statename"] == "RUNNING" and info["pid"] not in (0, old)

                deadline = time.monotonic() + 30
                while not respawned():
                    if time.monotonic() > deadline:
                        raise RuntimeError("timed out waiting for a new pid")
                    time.sleep(0.001)
                times.append((time.monotonic() - start) * 1000.0)
            results[kind] = median(times)
        finally:
            d.stop()
    row("kill -> RUNNING again (polled over XML-RPC)", results["python"], results["ours"], "ms", False)


def main():
    wanted = sys.argv[1:] or ["idle", "rpc", "flood", "chatter", "respawn"]
    tmp = tempfile.mkdtemp(prefix="supervisor-bench-")
    try:
        for name in wanted:
            globals()["scenario_" + name](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
