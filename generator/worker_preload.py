"""Imported once by the batch's forkserver (batch._pool): the workers it forks start
with the package imported and its pure-Python first-use work done (render.warm_up),
instead of each paying about 80 ms for it; on Linux a worker is replaced every
WORKER_STUDENTS students, so that is paid many times a batch.

It also makes the forkserver, and so every worker, ignore Ctrl-C (SIGINT, sent to the
whole process group): the batch's own process answers it ("aborted") and ends the pool,
instead of each process printing a KeyboardInterrupt traceback. SIGTERM and SIGHUP (a
`kill` of the group, a closed terminal; the pool's own way to end a worker) end a worker
with a quiet SystemExit rather than at once: by default a worker could die holding the
pool's queue locks, and the batch's process, ending the pool, hung on them (one run in
four under load), or leave a temporary file. First in the preload list, so the
forkserver is covered while it imports the rest."""
from .worker_signals import answer_signals

answer_signals()

import gc  # noqa: E402 (after the signals: a Ctrl-C during these imports is ignored too)

from .render import warm_up  # noqa: E402

try:
    warm_up()
except Exception:  # noqa: BLE001 (only a head start: a real fault shows again, reported, in the worker)
    pass
# What is left now lives as long as the worker: the collector need not scan it again
# (nor write to it, so a forked worker shares more of those pages with the forkserver).
gc.collect()
gc.freeze()
