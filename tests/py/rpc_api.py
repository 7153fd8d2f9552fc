"""XML-RPC scenarios run against both supervisords (ours and Python's 4.3)
with the same config (see API_PROGRAMS in tests/rpc.rs); the Rust test
diffs the two outputs line by line.

Usage: SERVER_URL=unix:///x.sock SANDBOX=/dir CONF=/dir/supervisord.conf \
       python rpc_api.py SCENARIO
"""

import os
import sys
import threading
import time
import xmlrpc.client

from common import emit, from_env, mask, outcome, step, wait_for, wait_state, statename

s = from_env()
sup = s.supervisor
system = s.system


def fresh():
    """A proxy with its own connection, for a call made from another thread."""
    return from_env()


def basics():
    step("getAPIVersion", sup.getAPIVersion)
    step("getVersion", sup.getVersion)
    step("getSupervisorVersion", sup.getSupervisorVersion)
    step("getIdentification", sup.getIdentification)
    step("getState", sup.getState)
    step("getPID is the daemon's pid",
         lambda: sup.getPID() == int(os.environ["SERVER_PID"]))
    methods = step("listMethods", system.listMethods)
    for name in methods:
        step("methodHelp " + name, system.methodHelp, name)
        step("methodSignature " + name, system.methodSignature, name)
    step("methodHelp unknown", system.methodHelp, "supervisor.nope")
    step("methodSignature unknown", system.methodSignature, "nope")
    step("methodHelp private", system.methodHelp, "supervisor._update")
    for method in ["supervisor._update", "supervisor._private", "supervisor.nope",
                   "a.b.c", "supervisor.getState.x", "getState", "nope.getState",
                   "system._listMethods", "supervisor.supervisord"]:
        step("unknown " + method, getattr(s, method))
    # Wrong arity is Python's TypeError: INCORRECT_PARAMETERS.
    step("arity getState(1)", sup.getState, 1)
    step("arity startProcess()", sup.startProcess)
    step("arity startProcess(3 args)", sup.startProcess, "cat", True, 1)
    step("arity readLog(1)", sup.readLog, 0)
    step("arity signalAllProcesses()", sup.signalAllProcesses)
    step("arity listMethods(1)", system.listMethods, 1)
    step("arity methodHelp()", system.methodHelp)
    step("arity multicall()", system.multicall)
    wait_state(s, "cat", "RUNNING")
    step("getAllProcessInfo", sup.getAllProcessInfo)
    for name in ["cat", "sleeper", "grp:a", "grp:b", "grp:*", "grp:", "grp",
                 "nope", "nope:x", "grp:nope", ":", "", "cat:cat", "cat:*"]:
        step("getProcessInfo " + repr(name), sup.getProcessInfo, name)
    step("getAllConfigInfo", sup.getAllConfigInfo)
    step("getProcessInfo int", sup.getProcessInfo, 123)
    step("startProcess int", sup.startProcess, 123)


def read_all(name):
    return sup.readProcessStdoutLog(name, 0, 0)


def logs():
    wait_state(s, "cat", "RUNNING")
    step("sendProcessStdin", sup.sendProcessStdin, "cat", "hello\n")
    wait_for("cat's echo", lambda: read_all("cat") == "hello\n")
    step("sendProcessStdin int", sup.sendProcessStdin, "cat", 5)
    step("sendProcessStdin stopped", sup.sendProcessStdin, "sleeper", "x")
    step("sendProcessStdin bad name", sup.sendProcessStdin, "nope", "x")
    step("sendProcessStdin group", sup.sendProcessStdin, "grp:*", "x")
    for args in [(0, 0), (0, 3), (3, 0), (-3, 0), (-3, 1), (0, -1), (100, 0),
                 (-100, 0), (6, 2)]:
        step("readProcessStdoutLog %r" % (args,), sup.readProcessStdoutLog, "cat", *args)
    step("readProcessLog", sup.readProcessLog, "cat", 0, 0)
    step("readProcessStderrLog", sup.readProcessStderrLog, "cat", 0, 0)
    step("readProcessStdoutLog str ints", sup.readProcessStdoutLog, "cat", "0", "2")
    step("readProcessStdoutLog bad name", sup.readProcessStdoutLog, "nope", 0, 0)
    step("readProcessStdoutLog group", sup.readProcessStdoutLog, "grp:*", 0, 0)
    step("readProcessStdoutLog no log", sup.readProcessStdoutLog, "nolog", 0, 0)
    step("readProcessStderrLog no log", sup.readProcessStderrLog, "nolog", 0, 0)
    step("readProcessStdoutLog not yet written", sup.readProcessStdoutLog, "sleeper", 0, 0)
    for args in [(0, 3), (0, 100), (3, 2), (6, 10), (100, 10), (0, 0), (-5, 3)]:
        step("tailProcessStdoutLog %r" % (args,), sup.tailProcessStdoutLog, "cat", *args)
    step("tailProcessLog", sup.tailProcessLog, "cat", 0, 100)
    step("tailProcessStderrLog", sup.tailProcessStderrLog, "cat", 0, 100)
    step("tailProcessStdoutLog no log", sup.tailProcessStdoutLog, "nolog", 0, 100)
    step("tailProcessStdoutLog bad name", sup.tailProcessStdoutLog, "nope", 0, 100)
    step("clearProcessLogs", sup.clearProcessLogs, "cat")
    step("read after clear", read_all, "cat")
    sup.sendProcessStdin("cat", "again\n")
    wait_for("cat's echo", lambda: read_all("cat") == "again\n")
    step("clearProcessLog", sup.clearProcessLog, "cat")
    step("read after clear", read_all, "cat")
    step("clearProcessLogs bad name", sup.clearProcessLogs, "nope")
    step("clearProcessLogs group", sup.clearProcessLogs, "grp:*")
    step("clearAllProcessLogs", sup.clearAllProcessLogs)
    # The main log's text differs between the two daemons; its shape does not.
    step("readLog(0,0) type", lambda: type(sup.readLog(0, 0)).__name__)
    step("readLog(-10,0) len", lambda: len(sup.readLog(-10, 0)))
    step("readLog(0,7) len", lambda: len(sup.readLog(0, 7)))
    step("readLog(-10,1)", sup.readLog, -10, 1)
    step("readLog(0,-1)", sup.readLog, 0, -1)
    step("readMainLog(-10,0) len", lambda: len(sup.readMainLog(-10, 0)))
    step("clearLog", sup.clearLog)
    step("readLog after clear", lambda: [line.split(" ", 2)[-1] for line in
                                         sup.readLog(0, 0).splitlines()])
    # Non-ASCII goes to the child as UTF-8 and comes back whole.
    step("sendProcessStdin unicode", sup.sendProcessStdin, "cat", "h\u00e9\u20ac\n")
    wait_for("cat's echo", lambda: read_all("cat").endswith("\u20ac\n"))
    step("read unicode", read_all, "cat")
    step("tail unicode", sup.tailProcessStdoutLog, "cat", 0, 100)
    # Reads that split a UTF-8 sequence: 4.3 fails them with HTTP 500
    # (UnicodeDecodeError); ours answers with U+FFFD for the broken bytes.
    step("read split utf-8", sup.readProcessStdoutLog, "cat", 2, 2)
    step("tail split utf-8", sup.tailProcessStdoutLog, "cat", 0, 3)
    step("sendRemoteCommEvent", sup.sendRemoteCommEvent, "type", "data")
    step("sendRemoteCommEvent arity", sup.sendRemoteCommEvent, "type")
    step("sendProcessStdin base64", sup.sendProcessStdin, "cat",
         xmlrpc.client.Binary(b"bin\xff\n"))


def by_name(results):
    return sorted(results, key=lambda r: (r["group"], r["name"]))


def control():
    step("startProcess", sup.startProcess, "sleeper")
    step("statename", statename, s, "sleeper")
    step("startProcess again", sup.startProcess, "sleeper")
    step("startProcess again nowait", sup.startProcess, "sleeper", False)
    step("stopProcess", sup.stopProcess, "sleeper")
    step("statename", statename, s, "sleeper")
    step("stopProcess again", sup.stopProcess, "sleeper")
    step("startProcess nowait", sup.startProcess, "sleeper", False)
    step("statename", statename, s, "sleeper")
    step("stopProcess nowait", sup.stopProcess, "sleeper", False)
    wait_state(s, "sleeper", "STOPPED")
    step("getProcessInfo stopped", sup.getProcessInfo, "sleeper")
    # wait=True holds the reply until startsecs have passed.
    began = time.time()
    step("startProcess slow", sup.startProcess, "slow", True)
    step("slow waited >= startsecs", lambda: time.time() - began >= 1.9)
    step("statename", statename, s, "slow")
    step("stopProcess slow", sup.stopProcess, "slow")
    step("startProcess slow nowait", sup.startProcess, "slow", False)
    step("statename", statename, s, "slow")
    step("startProcess while starting", sup.startProcess, "slow")
    step("stopProcess while starting", sup.stopProcess, "slow")
    step("statename", statename, s, "slow")
    # A waiting start ends in ABNORMAL_TERMINATION when the process is
    # stopped before it is RUNNING.
    box = {}
    waiter = threading.Thread(target=lambda: box.update(
        r=outcome(fresh().supervisor.startProcess, "slow", True)[1]))
    waiter.start()
    wait_state(s, "slow", "STARTING")
    step("stop a waited-for start", sup.stopProcess, "slow")
    waiter.join(20)
    emit("waiting startProcess", box.get("r"))
    step("startProcess missing", sup.startProcess, "missing")
    step("startProcess notexec", sup.startProcess, "notexec")
    step("startProcess dir", sup.startProcess, "dir")
    step("startProcess quick", sup.startProcess, "quick")
    wait_state(s, "quick", "FATAL")
    step("getProcessInfo quick", sup.getProcessInfo, "quick")
    step("readProcessStderrLog quick", sup.readProcessStderrLog, "quick", 0, 0)
    step("startProcess quick nowait", sup.startProcess, "quick", False)
    wait_state(s, "quick", "FATAL")
    step("startProcess bad name", sup.startProcess, "nope")
    step("startProcess bad group:name", sup.startProcess, "grp:nope")
    step("startProcess bad group", sup.startProcess, "nope:*")
    step("stopProcess bad name", sup.stopProcess, "nope")
    step("startProcess grp:*", sup.startProcess, "grp:*")
    step("statenames", lambda: [statename(s, n) for n in ("grp:a", "grp:b")])
    step("startProcess grp:a", sup.startProcess, "grp:a")
    step("startProcess bare a", sup.startProcess, "a")
    step("startProcessGroup running", sup.startProcessGroup, "grp")
    step("stopProcessGroup (sorted)", lambda: by_name(sup.stopProcessGroup("grp")))
    step("stopProcessGroup again", sup.stopProcessGroup, "grp")
    step("startProcess grp:", sup.startProcess, "grp:")
    step("stopProcess grp:* (sorted)", lambda: by_name(sup.stopProcess("grp:*")))
    step("startProcessGroup nowait", sup.startProcessGroup, "grp", False)
    step("stopProcessGroup nowait", sup.stopProcessGroup, "grp", False)
    wait_state(s, "grp:a", "STOPPED")
    wait_state(s, "grp:b", "STOPPED")
    step("startProcessGroup bad", sup.startProcessGroup, "nope")
    step("startProcessGroup process name", sup.startProcessGroup, "grp:a")
    step("stopProcessGroup bad", sup.stopProcessGroup, "nope")
    # Signals.
    step("startProcess trapper", sup.startProcess, "trapper")
    wait_for("trapper ready", lambda: read_all("trapper") == "ready\n")
    # One at a time: a shell merges a signal that arrives while one is pending.
    for count, sig in enumerate(["USR1", "usr1", "SIGUSR1", "10", 10, " usr1 "]):
        step("signalProcess %r" % (sig,), sup.signalProcess, "trapper", sig)
        wait_for("USR1 number %d" % (count + 1),
                 lambda: read_all("trapper").count("usr1") == count + 1)
    step("trapper log", read_all, "trapper")
    for sig in ["BOGUS", "99", 99, ""]:
        step("signalProcess bad %r" % (sig,), sup.signalProcess, "trapper", sig)
    step("signalProcess bad signal, stopped", sup.signalProcess, "sleeper", "BOGUS")
    step("signalProcess stopped", sup.signalProcess, "sleeper", "HUP")
    step("signalProcess bad name", sup.signalProcess, "nope", "HUP")
    step("signalProcessGroup none running", sup.signalProcessGroup, "grp", "WINCH")
    sup.startProcessGroup("grp")
    step("signalProcessGroup", sup.signalProcessGroup, "grp", "WINCH")
    step("signalProcessGroup bad signal", sup.signalProcessGroup, "grp", "BOGUS")
    step("signalProcess grp:*", sup.signalProcess, "grp:*", "WINCH")
    step("signalProcessGroup bad", sup.signalProcessGroup, "nope", "WINCH")
    step("signalAllProcesses", sup.signalAllProcesses, "WINCH")
    step("signalAllProcesses bad", sup.signalAllProcesses, "BOGUS")
    step("statenames after signals",
         lambda: [statename(s, n) for n in ("cat", "trapper", "grp:a", "grp:b")])
    # All processes: only the not-running ones are started, in priority order.
    # Waited-for results come in completion order, which in 4.3 depends on
    # its 50 ms polling; compare them sorted.
    step("stopAllProcesses (sorted)", lambda: by_name(sup.stopAllProcesses()))
    step("stopAllProcesses again", sup.stopAllProcesses)
    step("startAllProcesses (sorted)", lambda: by_name(sup.startAllProcesses()))
    step("all states", lambda: sorted((p["group"], p["name"], p["statename"])
                                       for p in sup.getAllProcessInfo()))
    step("stopAllProcesses nowait", sup.stopAllProcesses, False)
    for name in ["cat", "sleeper", "slow", "grp:a", "grp:b", "trapper", "nolog"]:
        wait_state(s, name, "STOPPED", "EXITED")
    step("startAllProcesses nowait", sup.startAllProcesses, False)
    wait_state(s, "slow", "RUNNING")
    step("all states", lambda: sorted((p["group"], p["name"], p["statename"])
                                       for p in sup.getAllProcessInfo()))
    step("stopAllProcesses (sorted)", lambda: by_name(sup.stopAllProcesses(True)))


def config():
    conf = __import__("os").environ["CONF"]
    original = open(conf).read()
    step("reloadConfig unchanged", sup.reloadConfig)
    with open(conf, "a") as f:
        f.write("\n[program:extra]\ncommand=sleep 1000\nstartsecs=0\n")
    step("reloadConfig added", sup.reloadConfig)
    step("getProcessInfo before add", sup.getProcessInfo, "extra")
    step("config info inuse", lambda: [(c["name"], c["inuse"]) for c in sup.getAllConfigInfo()
                                        if c["name"] == "extra"])
    step("addProcessGroup", sup.addProcessGroup, "extra")
    wait_state(s, "extra", "RUNNING")
    step("addProcessGroup again", sup.addProcessGroup, "extra")
    step("addProcessGroup bad", sup.addProcessGroup, "nope")
    step("removeProcessGroup running", sup.removeProcessGroup, "extra")
    sup.stopProcess("extra")
    step("removeProcessGroup", sup.removeProcessGroup, "extra")
    step("removeProcessGroup again", sup.removeProcessGroup, "extra")
    step("getProcessInfo after remove", sup.getProcessInfo, "extra")
    step("addProcessGroup again after remove", sup.addProcessGroup, "extra")
    wait_state(s, "extra", "RUNNING")
    sup.stopProcess("extra")
    sup.removeProcessGroup("extra")
    # Changed and removed groups.
    changed = original.replace("command=sleep 1000\nautostart=false\nstartsecs=0\n\n[program:slow]",
                               "command=sleep 999\nautostart=false\nstartsecs=0\n\n[program:slow]")
    changed = changed.replace("[program:nolog]", "[program:nolog_gone]")
    assert changed != original
    with open(conf, "w") as f:
        f.write(changed)
    step("reloadConfig changed", sup.reloadConfig)
    step("removeProcessGroup stopped", sup.removeProcessGroup, "nolog")
    step("reloadConfig after remove", sup.reloadConfig)
    with open(conf, "w") as f:
        f.write(original + "\n[program:broken]\nstartsecs=notanumber\ncommand=x\n")
    raw, result = outcome(sup.reloadConfig)
    if "fault" in result:
        result["fault"][1] = result["fault"][1].split(":")[0]
    emit("reloadConfig broken (code, name)", result)
    with open(conf, "w") as f:
        f.write(original)
    step("reloadConfig restored", sup.reloadConfig)


def multicall():
    calls = [
        {"methodName": "supervisor.getAPIVersion", "params": []},
        {"methodName": "supervisor.getProcessInfo", "params": ["nope"]},
        {"methodName": "system.multicall", "params": [[]]},
        {"params": []},
        {"methodName": "supervisor._update", "params": ["x"]},
        {"methodName": "supervisor.getState", "params": [1]},
        {"methodName": "supervisor.startProcess", "params": ["missing"]},
        {"methodName": "supervisor.startProcess", "params": ["slow"]},
        {"methodName": "supervisor.getProcessInfo", "params": ["slow"]},
        {"methodName": "supervisor.stopProcess", "params": ["slow"]},
        {"methodName": "system.methodSignature", "params": ["supervisor.getPID"]},
        {"methodName": "supervisor.getState"},
    ]
    step("multicall", system.multicall, calls)
    step("multicall empty", system.multicall, [])
    step("multicall not an array", system.multicall, "x")
    mc = xmlrpc.client.MultiCall(s)
    mc.supervisor.getAPIVersion()
    mc.supervisor.getProcessInfo("nope")
    mc.system.listMethods()
    # 4.3 returns successes bare, which the stdlib's iterator refuses.
    step("MultiCall iterator", lambda: list(mc()))


def restart():
    pid = sup.getPID()
    wait_state(s, "stubborn", "RUNNING")
    step("restart", sup.restart)
    # The stubborn child ignores TERM for stopwaitsecs: a window in which
    # every call but sendRemoteCommEvent answers SHUTDOWN_STATE.
    step("getState during restart", sup.getState)
    step("getAPIVersion during restart", sup.getAPIVersion)
    step("startProcess during restart", sup.startProcess, "cat")
    step("restart during restart", sup.restart)
    step("shutdown during restart", sup.shutdown)
    step("sendRemoteCommEvent during restart", sup.sendRemoteCommEvent, "t", "d")
    step("listMethods during restart", lambda: len(system.listMethods()))

    def back():
        try:
            return fresh().supervisor.getState()["statename"] == "RUNNING"
        except (xmlrpc.client.Fault, OSError, xmlrpc.client.ProtocolError):
            return False
    wait_for("supervisord back", back, timeout=30)
    step("same pid after restart", lambda: fresh().supervisor.getPID() == pid)
    emit("done", {"ok": True})


def shutdown():
    wait_state(s, "stubborn", "RUNNING")
    step("shutdown", sup.shutdown)
    step("getState during shutdown", sup.getState)
    step("shutdown during shutdown", sup.shutdown)


def auth():
    """Run with SERVER_USER/SERVER_PASSWORD set to the right credentials."""
    import common
    url = os.environ["SERVER_URL"]
    user, password = os.environ["SERVER_USER"], os.environ["SERVER_PASSWORD"]
    step("getState with credentials", sup.getState)
    step("multicall with credentials", system.multicall,
         [{"methodName": "supervisor.getAPIVersion", "params": []}])
    step("wrong password", common.proxy(url, user, password + "x").supervisor.getState)
    step("wrong user", common.proxy(url, user + "x", password).supervisor.getState)
    step("empty password", common.proxy(url, user, "").supervisor.getState)
    step("no credentials", common.proxy(url).supervisor.getState)


SCENARIOS = {f.__name__: f for f in
             [basics, logs, control, config, multicall, restart, shutdown, auth]}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]]()
