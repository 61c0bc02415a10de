"""The pool's exit cannot wait for ever (generator/reaping.py). Each scenario is a script
run in a process of its own, whose pool meets one way a worker can die or hang at the
wrong moment, then ends the pool as an interrupted batch does (terminate()); every one
of them kept that exit waiting for ever before."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

HEAD = """
import multiprocessing, multiprocessing.forkserver, multiprocessing.pool, os, signal, sys, threading, time
from generator import reaping

def deaf():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return os.getpid()

def dies_sending():
    # as SimpleQueue.put does before it writes a result, then the out-of-memory killer
    frame = sys._getframe()
    while frame.f_code.co_name != "worker":
        frame = frame.f_back
    frame.f_locals["outqueue"]._wlock.acquire()
    os.kill(os.getpid(), signal.SIGKILL)

def failing(*args, **kwargs):
    raise OSError("the forkserver is gone")

if __name__ == "__main__":
    reaping.WORKER_GRACE = 0.5
    ctx = multiprocessing.get_context(sys.argv[1])
"""

SCENARIOS = {
    # The pool SIGTERMs each worker, then waits for it: twice a CI run waited for ever on
    # one that never acted on it. A busy worker that ignores SIGTERM stands in for it.
    "a busy worker deaf to SIGTERM": """
    with reaping.ReapingPool(1, context=ctx) as pool:
        assert pool.apply_async(deaf).get(timeout=60)
        pool.apply_async(time.sleep, (3600,))
        time.sleep(0.5)
""",
    # A worker waiting for a task holds the task queue's read lock, which the exit takes.
    "idle workers killed": """
    with reaping.ReapingPool(2, context=ctx) as pool:
        assert pool.apply_async(os.getpid).get(timeout=60)
        time.sleep(0.5)
        for p in list(pool._pool):
            os.kill(p.pid, signal.SIGKILL)
        time.sleep(0.5)
""",
    # A worker sending a result holds the result queue's write lock, which the exit and
    # the task handler take to send their end.
    "a worker killed sending a result": """
    with reaping.ReapingPool(2, context=ctx) as pool:
        pool.apply_async(dies_sending)
        time.sleep(2)
""",
    # The worker handler sends the task handler its end as it leaves; it dies instead
    # when it cannot start a worker (the forkserver gone). Its error is kept, not printed
    # (beside make-pset's one line), for the batch to report.
    "a dead worker handler": """
    with reaping.ReapingPool(1, context=ctx) as pool:
        assert pool.apply_async(os.getpid).get(timeout=60) and pool.handler_failure() is None
        multiprocessing.pool.Pool._maintain_pool = staticmethod(failing)
        pool._change_notifier.put(None)
        time.sleep(0.5)
        assert repr(pool.handler_failure()) == "OSError('the forkserver is gone')"
""",
    # Once the forkserver has ended, multiprocessing takes its workers for ended (exit
    # code 255) and its kill() does nothing: a deaf one outlived make-pset.
    "a deaf worker once the forkserver ended": """
    with reaping.ReapingPool(1, context=ctx) as pool:
        worker = pool.apply_async(deaf).get(timeout=60)
        pool.apply_async(time.sleep, (3600,))
        time.sleep(0.3)
        os.kill(multiprocessing.forkserver._forkserver._forkserver_pid, signal.SIGKILL)
        time.sleep(0.5)
    assert not os.path.exists(f"/proc/{worker}") or open(f"/proc/{worker}/stat").read().split()[2] == "Z"
""",
}
FORKSERVER_ONLY = {"a deaf worker once the forkserver ended"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a forkserver, /proc: Linux only")
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_pools_exit_cannot_wait_for_ever(tmp_path, scenario, method):
    if method != "forkserver" and scenario in FORKSERVER_ONLY:
        pytest.skip("a forkserver's")
    script = tmp_path / "scenario.py"
    script.write_text(HEAD + SCENARIOS[scenario], encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), method], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the pool's exit waited for ever ({scenario})")
    assert (proc.returncode, err) == (0, "")
