"""supervisorctl 4.3 scenarios: each step runs the real supervisorctl
against the server in the environment (SERVER_URL, CONF, SUPERVISORCTL,
SERVER_USER/SERVER_PASSWORD) and prints its masked output and exit code as
one JSON line, so the Rust test can diff ours against Python's supervisord.

Usage: python ctl.py SCENARIO
"""

import os
import re
import signal
import subprocess
import sys
import time

from common import SANDBOX, emit, from_env, mask_text, wait_for, wait_state

CTL = os.environ["SUPERVISORCTL"]
CONF = os.environ["CONF"]
URL = os.environ["SERVER_URL"]
SERVER_PID = os.environ.get("SERVER_PID", "")


def base_args(user=None, password=None):
    args = [CTL, "-c", CONF, "-s", URL]
    user = user if user is not None else os.environ.get("SERVER_USER")
    password = password if password is not None else os.environ.get("SERVER_PASSWORD")
    if user is not None:
        args += ["-u", user]
    if password is not None:
        args += ["-p", password]
    return args


def masked(text, pids=False, sort=False):
    text = mask_text(text)
    if SERVER_PID:
        text = re.sub(r"\b%s\b" % SERVER_PID, "<supervisord pid>", text)
    if pids:
        text = re.sub(r"(?m)^\d+$", "<pid>", text)
    if sort:
        text = "\n".join(sorted(text.splitlines()))
    return text


def ctl(label, *args, pids=False, sort=False, user=None, password=None,
        summary=None):
    """Runs supervisorctl ARGS and prints [label, {rc, out}]; `summary`
    reduces output whose text legitimately differs (the main log)."""
    proc = subprocess.run(base_args(user, password) + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60)
    out = proc.stdout.decode("utf-8", "replace")
    shown = summary(out) if summary else masked(out, pids, sort)
    emit(label, {"rc": proc.returncode, "out": shown})
    return out


def main_log_summary(out):
    """The main logs' lines differ in timing and wording; what must agree
    is the framing and that the child output logged at debug level is there."""
    return {"has cat output": "DEBG 'cat' stdout output:\none\ntwo\nthree\n" in out,
            "first line": out.splitlines()[0] if out.startswith("==>") else None}


def tail_f(label, args, expect, summary=None):
    """`tail -f`: streams until interrupted, like a user's Ctrl-C."""
    proc = subprocess.Popen(base_args() + args, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    os.set_blocking(proc.stdout.fileno(), False)
    deadline = time.time() + 20
    while expect.encode() not in out and time.time() < deadline:
        chunk = proc.stdout.read()
        if chunk:
            out += chunk
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    os.set_blocking(proc.stdout.fileno(), True)
    out += proc.stdout.read() or b""
    text = out.decode("utf-8", "replace")
    emit(label, {"rc": proc.returncode,
                 "out": summary(text) if summary else masked(text)})


s = from_env()
sup = s.supervisor


def read_all(name):
    return sup.readProcessStdoutLog(name, 0, 0)


def status():
    wait_state(s, "cat", "RUNNING")
    wait_state(s, "stubborn", "RUNNING")
    ctl("status", "status")
    ctl("status cat", "status", "cat")
    ctl("status two", "status", "cat", "sleeper")
    ctl("status grp:*", "status", "grp:*")
    ctl("status grp:a", "status", "grp:a")
    ctl("status nope", "status", "nope")
    ctl("status nope:*", "status", "nope:*")
    ctl("status all", "status", "all")
    ctl("pid", "pid")
    ctl("pid cat", "pid", "cat", pids=True)
    ctl("pid sleeper", "pid", "sleeper", pids=True)
    ctl("pid all", "pid", "all", pids=True)
    ctl("pid nope", "pid", "nope")
    ctl("avail", "avail")
    ctl("version", "version")
    ctl("help", "help")
    ctl("help status", "help", "status")
    ctl("unknown command", "frobnicate")
    ctl("maintail -5", "maintail", "-5", summary=lambda out: len(out))


def control():
    wait_state(s, "cat", "RUNNING")
    ctl("start sleeper", "start", "sleeper")
    ctl("start sleeper again", "start", "sleeper")
    ctl("stop sleeper", "stop", "sleeper")
    ctl("stop sleeper again", "stop", "sleeper")
    ctl("restart sleeper", "restart", "sleeper")
    ctl("restart sleeper again", "restart", "sleeper")
    ctl("stop sleeper", "stop", "sleeper")
    ctl("start two", "start", "sleeper", "trapper")
    ctl("stop two", "stop", "sleeper", "trapper")
    ctl("start nothing", "start")
    ctl("stop nothing", "stop")
    ctl("start nope", "start", "nope")
    ctl("stop nope", "stop", "nope")
    ctl("start missing", "start", "missing")
    ctl("start notexec", "start", "notexec")
    ctl("start quick", "start", "quick")
    ctl("start grp:*", "start", "grp:*", sort=True)
    ctl("start grp:a", "start", "grp:a")
    ctl("stop grp:*", "stop", "grp:*", sort=True)
    ctl("restart grp:*", "restart", "grp:*", sort=True)
    ctl("stop grp:", "stop", "grp:", sort=True)
    ctl("start nope:*", "start", "nope:*")
    # 4.3 forgets a process's log handlers when it exits, so clearing the
    # logs of a stopped process leaves them as they are; ours clears them.
    ctl("clear stopped trapper", "clear", "trapper")
    ctl("tail cleared stopped trapper", "tail", "trapper")
    ctl("start trapper", "start", "trapper")
    wait_for("trapper ready", lambda: read_all("trapper").endswith("ready\n"))
    ctl("signal USR1 trapper", "signal", "USR1", "trapper")
    wait_for("usr1", lambda: read_all("trapper").endswith("ready\nusr1\n"))
    ctl("signal bad", "signal", "BOGUS", "trapper")
    ctl("signal stopped", "signal", "HUP", "sleeper")
    ctl("signal nope", "signal", "HUP", "nope")
    ctl("signal no args", "signal")
    ctl("signal grp:*", "signal", "WINCH", "grp:*", sort=True)
    ctl("start grp:*", "start", "grp:*", sort=True)
    ctl("signal grp:* running", "signal", "WINCH", "grp:*", sort=True)
    ctl("signal all", "signal", "WINCH", "all", sort=True)
    ctl("stop all", "stop", "all", sort=True)
    ctl("status after stop all", "status")
    ctl("start all", "start", "all", sort=True)
    ctl("restart all", "restart", "all", sort=True)
    ctl("stop all", "stop", "all", sort=True)


def logs():
    wait_state(s, "cat", "RUNNING")
    sup.sendProcessStdin("cat", "one\ntwo\nthree\n")
    wait_for("cat's echo", lambda: read_all("cat") == "one\ntwo\nthree\n")
    ctl("tail cat", "tail", "cat")
    ctl("tail -5 cat", "tail", "-5", "cat")
    ctl("tail cat stdout", "tail", "cat", "stdout")
    ctl("tail cat stderr", "tail", "cat", "stderr")
    ctl("tail -5 cat stderr", "tail", "-5", "cat", "stderr")
    ctl("tail nope", "tail", "nope")
    ctl("tail nolog", "tail", "nolog")
    ctl("tail grp:*", "tail", "grp:*")
    ctl("tail bad channel", "tail", "cat", "stdnothing")
    ctl("tail no args", "tail")
    ctl("tail too many", "tail", "-f", "cat", "stdout", "x")
    ctl("tail -x", "tail", "-x", "cat")
    tail_f("tail -f cat", ["tail", "-f", "cat"], "three\n")
    tail_f("tail -f cat stderr", ["tail", "-f", "cat", "stderr"], "<==\n")
    ctl("clear cat", "clear", "cat")
    ctl("tail after clear", "tail", "cat")
    ctl("clear nope", "clear", "nope")
    ctl("clear all", "clear", "all", sort=True)
    ctl("clear nothing", "clear")
    ctl("maintail -100", "maintail", "-100", summary=lambda out: len(out))
    ctl("maintail bad", "maintail", "-x")
    tail_f("maintail -f", ["maintail", "-f"], "three\n\n", summary=main_log_summary)


def config():
    wait_state(s, "cat", "RUNNING")
    original = open(CONF).read()
    ctl("reread unchanged", "reread")
    ctl("update unchanged", "update")
    changed = original.replace("[program:nolog]", "[program:nolog2]")
    changed = changed.replace("command=sleep 1000\nautostart=false\nstartsecs=0\n\n[program:slow]",
                              "command=sleep 999\nautostart=false\nstartsecs=0\n\n[program:slow]")
    changed += "\n[program:extra]\ncommand=sleep 1000\nstartsecs=0\n"
    assert changed != original
    with open(CONF, "w") as f:
        f.write(changed)
    ctl("reread", "reread")
    ctl("avail before update", "avail")
    ctl("update", "update", sort=True)
    ctl("avail after update", "avail")
    ctl("status after update", "status")
    ctl("remove running", "remove", "extra")
    ctl("stop extra", "stop", "extra")
    ctl("remove extra", "remove", "extra")
    ctl("remove again", "remove", "extra")
    ctl("add extra", "add", "extra")
    ctl("add again", "add", "extra")
    ctl("add nope", "add", "nope")
    ctl("remove nope", "remove", "nope")
    ctl("update extra (unchanged)", "update", "extra")
    ctl("stop extra", "stop", "extra")
    with open(CONF, "w") as f:
        f.write(original)
    ctl("update group", "update", "sleeper")
    ctl("update all", "update", "all", sort=True)
    ctl("status after revert", "status")
    with open(CONF, "w") as f:
        f.write(original + "\n[program:broken]\nstartsecs=notanumber\ncommand=x\n")
    # The wording of config errors is ours (see the config module).
    ctl("reread broken", "reread", summary=lambda out: out.split(":")[:2])
    with open(CONF, "w") as f:
        f.write(original)


def shutdown():
    wait_state(s, "cat", "RUNNING")
    ctl("shutdown", "shutdown")
    if URL.startswith("unix://"):
        path = URL[len("unix://"):]
        wait_for("the socket to go", lambda: not os.path.exists(path), timeout=30)
    else:
        import socket
        host, port = URL[len("http://"):].split(":")

        def refused():
            try:
                socket.create_connection((host, int(port)), 1).close()
                return False
            except OSError:
                return True
        wait_for("the port to close", refused, timeout=30)
    ctl("status after shutdown", "status")
    ctl("shutdown after shutdown", "shutdown")


def auth():
    ctl("status with credentials", "status", "cat")
    ctl("status wrong password", "status", "cat", password="wrong")
    ctl("status wrong user", "status", "cat", user="nobody")
    ctl("version with credentials", "version")
    ctl("pid wrong password", "pid", password="wrong")


SCENARIOS = {f.__name__: f for f in [status, control, logs, config, shutdown, auth]}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]]()
