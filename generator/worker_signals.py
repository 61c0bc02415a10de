"""How a batch's worker answers signals (see worker_preload, which applies it in the
forkserver; a spawned pool's initializer elsewhere). No side effects on import."""
import signal


def _exit_quietly(signum, frame):
    """Raised between two bytecodes: a `with lock:` block or atomic_writer on the way out
    releases the lock or removes its temporary file."""
    raise SystemExit(128 + signum)


def answer_signals() -> None:
    """Ctrl-C ignored (the batch's own process answers it); SIGTERM, SIGHUP quietly end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _exit_quietly)


