"""How a batch's worker answers signals (see worker_preload, which applies it in the
forkserver; a spawned pool's initializer elsewhere). No side effects on import."""
import os
import signal

# What a `kill`, a closed terminal or a scheduler's time limit sends: make-pset answers
# them like Ctrl-C (cli.Terminated), its workers quietly end (below).
TERMINATING = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))
# Those and Ctrl-C: what make-pset's processes answer in Python.
ANSWERED = (signal.SIGINT, *TERMINATING)

# Set by the pool's initializer: from then on the worker may hold the pool's queue locks
# or a temporary file. Before, it holds neither (the forkserver, or a worker still
# starting), and Python's start-up code would print, and then ignore, an exception raised
# there ("Exception ignored in: _after_fork").
_serving = False

# Should the SystemExit be swallowed after all (raised where Python only reports it), the
# kernel ends the worker this many seconds later (SIGALRM's default): the pool's
# terminate() waits for it.
BACKSTOP_SECONDS = 5


def hold_answered():
    """Block SIGINT, SIGTERM and SIGHUP in this thread (a signal then waits, it is not
    lost); returns what release() needs to restore the mask (None: no masks here)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, ANSWERED)


def release(held) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def ignore_signal(signum, frame) -> None:
    """A signal answered once, ignored from then on. A Python handler, not SIG_IGN: set
    from a handler, SIG_IGN would turn a signal already on its way (caught, its Python
    handler not yet run) into an "ignored due to race condition" traceback."""


def _exit_quietly(signum, frame):
    """Raised between two bytecodes: a `with lock:` block or atomic_writer on the way out
    releases the lock or removes its temporary file."""
    if not _serving:
        os._exit(128 + signum)
    for sig in TERMINATING:  # once: a second one would cut short the way out this one takes
        signal.signal(sig, ignore_signal)
    if hasattr(signal, "alarm"):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(BACKSTOP_SECONDS)
    raise SystemExit(128 + signum)


def answer_signals() -> None:
    """Ctrl-C ignored (the batch's own process answers it); SIGTERM, SIGHUP quietly end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in TERMINATING:
        signal.signal(sig, _exit_quietly)


def start_serving() -> None:
    """A forkserver pool's initializer (its workers answer signals from the preload)."""
    global _serving
    _serving = True


def start_spawned() -> None:
    """A spawned pool's initializer: a new interpreter, nothing preloaded."""
    answer_signals()
    start_serving()
