"""Row order within the columns of a layered drawing: barycentre sweeps, then adjacent
swaps, minimising edge crossings plus a penalty for each operand pair drawn upside
down (the first operand of a - b or a / b should arrive from above the second).
Items with a rank (the inputs X1, X2, ...) keep their rank order within a column."""
from __future__ import annotations


PAIR_WEIGHT = 3  # an operand pair upside down costs as much as this many crossings


def _positions(cols: list[list[str]]) -> dict[str, int]:
    return {k: i for keys in cols for i, k in enumerate(keys)}


class _Cost:
    """The cost of a row order: crossings between consecutive columns, operand pairs
    upside down, and (a tie-break) bends. What does not depend on the order (which
    column each link leaves, the column sizes, each key's neighbours) is worked out
    once: the sweeps and swaps ask for the cost of many orders of the same columns."""

    def __init__(self, cols: list[list[str]], links, pairs, straight: float):
        col_of = {k: c for c, keys in enumerate(cols) for k in keys}
        by_col: dict[int, list[tuple[str, str]]] = {}
        self.preds: dict[str, list[str]] = {}
        self.succs: dict[str, list[str]] = {}
        for a, b in links:
            by_col.setdefault(col_of[a], []).append((a, b))
            self.succs.setdefault(a, []).append(b)
            self.preds.setdefault(b, []).append(a)
        self.groups = [by_col[c] for c in sorted(by_col)]
        # per link, each end's relative height by its position: (position + 0.5) / column size
        heights: dict[int, list[float]] = {}
        for keys in cols:
            n = len(keys)
            if n not in heights:
                heights[n] = [(i + 0.5) / n for i in range(n)]
        height_of = {k: heights[len(keys)] for keys in cols for k in keys}
        self.links = [(a, b, height_of[a], height_of[b]) for a, b in links]
        self.pairs, self.straight = pairs, straight
        # per key, the links and operand pairs that touch it (what a swap can change)
        self.links_of: dict[str, list[tuple[str, str, list[float], list[float]]]] = {}
        for link in self.links:
            for k in link[:2]:
                self.links_of.setdefault(k, []).append(link)
        self.pairs_of: dict[str, list[tuple[str, str]]] = {}
        self._touching_cache: dict[tuple[str, str], tuple[list, list]] = {}
        for pair in pairs:
            for k in pair:
                self.pairs_of.setdefault(k, []).append(pair)

    def __call__(self, cols: list[list[str]]) -> float:
        pos = _positions(cols)
        return self.total(pos, self.crossings(pos))

    def crossings(self, pos: dict[str, int]) -> int:
        total = 0
        for group in self.groups:
            found = [(pos[a], pos[b]) for a, b in group]
            for i, (a1, b1) in enumerate(found):
                for a2, b2 in found[i + 1:]:
                    if (a1 - a2) * (b1 - b2) < 0:  # (ints: exact)
                        total += 1
        return total

    def swap_change(self, pos: dict[str, int], upper: str, lower: str) -> float:
        """How much the cost changes once neighbours ``upper`` and ``lower`` (just below
        it) swap. Crossings: only pairs of a link of one and a link of the other, on the
        same side, change (they cross before or after the swap, never both). Bends and
        operand pairs: only the links and pairs that touch one of the two."""
        crossings = 0
        for side in (self.preds, self.succs):
            for x in side.get(upper, ()):
                for y in side.get(lower, ()):
                    crossings += (pos[x] < pos[y]) - (pos[x] > pos[y])
        links, pairs = self._touching(upper, lower)
        before = self._terms(pos, links, pairs)
        pos[upper], pos[lower] = pos[lower], pos[upper]
        after = self._terms(pos, links, pairs)
        pos[upper], pos[lower] = pos[lower], pos[upper]
        return crossings + after - before

    def _touching(self, upper: str, lower: str) -> tuple[list, list]:
        """The links and operand pairs that touch upper or lower (each once), kept: the
        swaps ask about the same neighbours pass after pass."""
        found = self._touching_cache.get((upper, lower))
        if found is None:
            links = self.links_of.get(upper, []) + [t for t in self.links_of.get(lower, ()) if upper not in t[:2]]
            pairs = self.pairs_of.get(upper, []) + [t for t in self.pairs_of.get(lower, ()) if upper not in t]
            found = self._touching_cache[(upper, lower)] = (links, pairs)
        return found

    def _terms(self, pos: dict[str, int], links, pairs) -> float:
        """The operand-pair and bend terms of ``total`` for these links and pairs."""
        return PAIR_WEIGHT * _upside_down(pos, pairs) + self.straight * _bend(pos, links)

    def total(self, pos: dict[str, int], crossings: int) -> float:
        # Among orders with as many crossings, the one with the straightest edges.
        return crossings + PAIR_WEIGHT * _upside_down(pos, self.pairs) + self.straight * _bend(pos, self.links)


# The two terms as plain loops (they are most of the swaps' cost): the bends added left to
# right, as floats.left_sum, so the same bits on every Python.

def _bend(pos: dict[str, int], links) -> float:
    bend = 0
    for a, b, height_a, height_b in links:
        bend += abs(height_a[pos[a]] - height_b[pos[b]])
    return bend


def _upside_down(pos: dict[str, int], pairs) -> int:
    count = 0
    for up, down in pairs:
        if pos[up] > pos[down]:
            count += 1
    return count


def _keep_ranks(keys: list[str], ranks: dict[str, int]) -> list[str]:
    """The same order, except that ranked keys are put back in rank order in the slots
    that ranked keys occupy."""
    slots = [i for i, k in enumerate(keys) if k in ranks]
    ranked = sorted((k for k in keys if k in ranks), key=lambda k: ranks[k])
    out = list(keys)
    for i, k in zip(slots, ranked):
        out[i] = k
    return out


def order(cols: list[list[str]], links: list[tuple[str, str]], sweeps: int,
          ranks: dict[str, int], pairs: list[tuple[str, str]], straight: float = 0.1) -> list[list[str]]:
    """``straight``: the cost per edge of its change in relative height, a tie-breaker
    among orders with as many crossings (favouring straight edges)."""
    cur = [_keep_ranks(list(c), ranks) for c in cols]
    cost_of = _Cost(cur, links, pairs, straight)
    preds, succs = cost_of.preds, cost_of.succs  # each key's neighbours, in the links' order
    best, best_cost = [list(c) for c in cur], cost_of(cur)
    pos = _positions(cur)  # kept up to date column by column (a column's sort reads the old one)
    round_start = None
    ranked = [any(k in ranks for k in keys) for keys in cur]  # the columns with ranked keys
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        if down:
            # A sweep's result depends only on the order it starts from: once a down and
            # up sweep bring the order back to where they began, the rest would repeat it.
            if cur == round_start:
                break
            round_start = [list(c) for c in cur]
        rng = range(1, len(cur)) if down else range(len(cur) - 2, -1, -1)
        nbrs = preds if down else succs

        def key(k):
            ns = nbrs.get(k)
            if not ns:
                return (pos[k], pos[k])
            return (sum(map(pos.__getitem__, ns)) / len(ns), pos[k])  # ints: an exact sum
        for c in rng:
            cur[c] = sorted(cur[c], key=key)
            if ranked[c]:
                cur[c] = _keep_ranks(cur[c], ranks)
            pos.update((k, i) for i, k in enumerate(cur[c]))
        cost = cost_of.total(pos, cost_of.crossings(pos))
        if cost < best_cost - 1e-9:
            best, best_cost = [list(c) for c in cur], cost
    return _swap_down(best, cost_of, ranks)


def _swap_down(cols, cost_of: _Cost, ranks, passes: int = 6):
    """Swap neighbours in a column while that lowers the cost (two ranked keys never swap).
    Each candidate swap costs only its change, worked out from what it touches."""
    pos = _positions(cols)
    for _ in range(passes):
        improved = False
        for keys in cols:
            for i in range(len(keys) - 1):
                upper, lower = keys[i], keys[i + 1]
                if upper in ranks and lower in ranks:
                    continue
                if cost_of.swap_change(pos, upper, lower) < -1e-9:
                    keys[i], keys[i + 1] = lower, upper
                    pos[upper], pos[lower] = i + 1, i
                    improved = True
        if not improved:
            break
    return cols
