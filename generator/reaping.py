"""multiprocessing's Pool, made so that ending it cannot wait for ever (ReapingPool).

Pool's own exit waits, with no time limit, on things a worker that died at the wrong
moment (the out-of-memory killer, a `kill -9`, a signal it never acted on) never gives
back: its exit, the task queue's read lock it held while it waited for a task, the
result queue's write lock it held while it sent a result. Each wait here gives up after
WORKER_GRACE; then the workers are killed and reaped, and the pool ends without them.
Killing them then loses nothing: a worker sends a student's result only once its files
are written, and the batch stops reading results before it ends the pool."""
from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.pool
import os
import select
import signal
import threading
import time
from multiprocessing.reduction import ForkingPickler

# How long the pool's exit waits for a worker it has signalled (or told the work is
# over), or for a lock of its queues, before it kills the workers.
WORKER_GRACE = 5.0


class _Reaped:
    """A pool worker whose join() without a timeout, the pool's last step in ending it,
    gives up waiting after WORKER_GRACE and kills it (SIGKILL). Twice a CI run hung there
    for ever, on a worker that never acted on the pool's SIGTERM (cause not found).

    Where it can, it also watches the process itself (a pidfd, Linux): once a forkserver
    has ended (a group SIGTERM ends it), multiprocessing takes each of its workers for
    ended (exit code 255) whether it is or not, and its kill() does nothing."""

    _pidfd: int | None = None

    def start(self) -> None:
        super().start()
        # The pool's threads may join, or kill, a worker at once (its worker handler
        # cleaning up, this one ending it): one must not close the pidfd under another.
        self._watch = threading.Lock()
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # not Linux 5.3+, or it has ended already
            self._pidfd = None

    def join(self, timeout=None):
        if timeout is not None:
            return super().join(timeout)
        super().join(WORKER_GRACE)
        if not self._gone(WORKER_GRACE if self.exitcode is not None else 0):
            self.force_kill()
            super().join()
            self._gone(WORKER_GRACE)
        self._forget()

    def force_kill(self) -> None:
        with self._watch:
            if self._pidfd is not None:
                try:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                except OSError:  # ended already
                    pass
                return
        if self.exitcode is None:
            self.kill()

    def _gone(self, wait: float) -> bool:
        """Whether the process has ended, waiting up to ``wait`` seconds for it."""
        with self._watch:
            if self._pidfd is not None:
                return bool(select.select([self._pidfd], [], [], wait)[0])
        return self.exitcode is not None

    def _forget(self) -> None:
        with self._watch:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None


# At module level: a worker process object is pickled to be started (spawn, forkserver).
class _SpawnWorker(_Reaped, multiprocessing.context.SpawnProcess):
    pass


if hasattr(multiprocessing.context, "ForkServerProcess"):  # POSIX
    class _ForkServerWorker(_Reaped, multiprocessing.context.ForkServerProcess):
        pass


def kill_workers(workers) -> None:
    """Every worker killed and reaped: one has died holding a lock of the pool's queues."""
    workers = list(workers)
    for p in workers:
        p.force_kill()
    for p in workers:
        p.join()


class ReapingPool(multiprocessing.pool.Pool):
    """multiprocessing's Pool whose exit cannot wait for ever (see the module's doc)."""

    def __init__(self, *args, **kwargs) -> None:
        _quiet_worker_handlers()
        super().__init__(*args, **kwargs)
        self._worker_handler.reaping_pool_handler = True
        # The same list as the pool's, kept current by it; instance attributes are not
        # pickled with the queues for the workers.
        self._inqueue.workers = self._pool
        # The pool's own end-of-work messages on the result queue (from this thread and
        # the task handler's), whose write lock the workers share.
        self._outqueue.put = _BoundedPut(self._outqueue, self._pool)

    def handler_failure(self) -> BaseException | None:
        """Why the pool's worker handler died, if it did: it starts the workers that
        replace those that served their students, from the forkserver, so the pool will
        start none again (the forkserver killed, say)."""
        if self._worker_handler.is_alive() or self._state != multiprocessing.pool.RUN:
            return None
        return getattr(self._worker_handler, "failure", None) or RuntimeError("it stopped")

    @staticmethod
    def Process(ctx, *args, **kwds):
        worker = _ForkServerWorker if ctx.get_start_method() == "forkserver" else _SpawnWorker
        return worker(*args, **kwds)

    def terminate(self) -> None:
        # The pool's worker handler tells its task handler the end (None) on its way out;
        # should it have died instead (it starts new workers from the forkserver, which a
        # group SIGTERM ends), the task handler, and this joining it, waited for ever. A
        # second end is never read.
        self._taskqueue.put(None)
        super().terminate()

    @staticmethod
    def _help_stuff_finish(inqueue, task_handler, size):
        """Pool's own, as it ends: it takes the task queue's read lock for good (no worker
        reads from then on) and empties the queue, so that the task handler is not left
        blocked on a full one. A worker killed while it waited for a task holds that lock
        for ever: after WORKER_GRACE the workers are killed and the queue emptied without it."""
        if not inqueue._rlock.acquire(timeout=WORKER_GRACE):
            kill_workers(getattr(inqueue, "workers", ()))
        while task_handler.is_alive() and inqueue._reader.poll():
            inqueue._reader.recv()
            time.sleep(0)


class _BoundedPut:
    """SimpleQueue.put, for the result queue as the pool ends it. A worker killed while
    it sent a result holds the queue's write lock for ever: after WORKER_GRACE the workers
    are killed and the message sent without it. (A result is one write of less than a
    pipe's atomic size, so a killed worker leaves none half-written.)"""

    def __init__(self, queue, workers) -> None:
        self.queue, self.workers = queue, workers
        self.sending = threading.Lock()  # this thread's and the task handler's, once unlocked

    def __call__(self, obj) -> None:
        data = ForkingPickler.dumps(obj)
        lock = self.queue._wlock
        if lock is None:  # Windows: a message pipe's writes are atomic
            self.queue._writer.send_bytes(data)
        elif lock.acquire(timeout=WORKER_GRACE):
            try:
                self.queue._writer.send_bytes(data)
            finally:
                lock.release()
        else:
            kill_workers(self.workers)
            with self.sending:
                self.queue._writer.send_bytes(data)


_hooked = threading.Lock()


def _quiet_worker_handlers() -> None:
    """A pool's worker handler that fails to start a worker (the forkserver gone: a group
    SIGTERM ends it) printed a traceback beside make-pset's one line. Its error is kept
    on the thread instead (ReapingPool.handler_failure); every other thread's goes to the
    hook that was there before."""
    with _hooked:
        if getattr(threading.excepthook, "reaping", False):
            return
        before = threading.excepthook

        def hook(args) -> None:
            if getattr(args.thread, "reaping_pool_handler", False) and issubclass(args.exc_type, (OSError, EOFError)):
                args.thread.failure = args.exc_value
                return
            before(args)
        hook.reaping = True
        threading.excepthook = hook
