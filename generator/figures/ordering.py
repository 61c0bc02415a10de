"""Row order within the columns of a layered drawing: barycentre sweeps, then adjacent
swaps, minimising edge crossings plus a penalty for each operand pair drawn upside
down (the first operand of a - b or a / b should arrive from above the second).
Items with a rank (the inputs X1, X2, ...) keep their rank order within a column."""
from __future__ import annotations

PAIR_WEIGHT = 3  # an operand pair upside down costs as much as this many crossings


def _positions(cols: list[list[str]]) -> dict[str, int]:
    return {k: i for keys in cols for i, k in enumerate(keys)}


def _cost(cols, links, pairs, straight: float) -> float:
    pos = _positions(cols)
    col_of = {k: c for c, keys in enumerate(cols) for k in keys}
    by_col: dict[int, list[tuple[int, int]]] = {}
    for a, b in links:
        by_col.setdefault(col_of[a], []).append((pos[a], pos[b]))
    total = 0
    for c in sorted(by_col):
        found = by_col[c]
        for i, (a1, b1) in enumerate(found):
            for a2, b2 in found[i + 1:]:
                total += (a1 - a2) * (b1 - b2) < 0
    # Among orders with as many crossings, the one with the straightest edges.
    size = {k: len(keys) for keys in cols for k in keys}
    bend = sum(abs((pos[a] + 0.5) / size[a] - (pos[b] + 0.5) / size[b]) for a, b in links)
    return total + PAIR_WEIGHT * sum(pos[up] > pos[down] for up, down in pairs) + straight * bend


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
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for a, b in links:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)

    cur = [_keep_ranks(list(c), ranks) for c in cols]
    best, best_cost = [list(c) for c in cur], _cost(cur, links, pairs, straight)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        rng = range(1, len(cur)) if down else range(len(cur) - 2, -1, -1)
        for c in rng:
            pos = _positions(cur)
            nbrs = preds if down else succs

            def key(k, pos=pos, nbrs=nbrs):
                ns = nbrs.get(k, [])
                if not ns:
                    return (pos[k], pos[k])
                return (sum(pos[n] for n in ns) / len(ns), pos[k])
            cur[c] = _keep_ranks(sorted(cur[c], key=key), ranks)
        cost = _cost(cur, links, pairs, straight)
        if cost < best_cost - 1e-9:
            best, best_cost = [list(c) for c in cur], cost
    return _swap_down(best, best_cost, links, pairs, ranks, straight)


def _swap_down(cols, cost, links, pairs, ranks, straight, passes: int = 6):
    """Swap neighbours in a column while that lowers the cost (two ranked keys never swap)."""
    for _ in range(passes):
        improved = False
        for keys in cols:
            for i in range(len(keys) - 1):
                if keys[i] in ranks and keys[i + 1] in ranks:
                    continue
                keys[i], keys[i + 1] = keys[i + 1], keys[i]
                new = _cost(cols, links, pairs, straight)
                if new < cost - 1e-9:
                    cost, improved = new, True
                else:
                    keys[i], keys[i + 1] = keys[i + 1], keys[i]
        if not improved:
            break
    return cols
