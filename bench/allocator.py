"""Which malloc this process runs with, for the benches' figures (see docs/performance.md: glibc's
malloc slows a long Typst run down; jemalloc, when preloaded, does not)."""
from pathlib import Path


def allocator() -> str:
    """jemalloc if it is really mapped into this process (a preload that failed to load
    does not count), else the system's."""
    try:
        maps = Path("/proc/self/maps").read_text(errors="replace")
    except OSError:
        return "the system malloc (not Linux: not checked)"
    return "jemalloc (preloaded)" if "libjemalloc" in maps else "the system malloc"
