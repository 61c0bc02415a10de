"""Row heights within the columns of a layered drawing: each column stacked at its
minimum spacing, then sweeps that pull every item toward the mean height of its
neighbours (isotonic regression keeps the spacing), long edges first."""
from __future__ import annotations

SWEEPS = 16
SELF_WEIGHT = 0.3   # an item's pull toward where it already is
DUMMY_WEIGHT = 4.0  # pass-through points of long edges move first: straight long edges


def _offsets(seps: list[float]) -> list[float]:
    offs = [0.0]
    for s in seps:
        offs.append(offs[-1] + s)
    return offs


def place(cols: list[list[str]], up: dict[str, float], down: dict[str, float], is_node: dict[str, bool],
          links: list[tuple[str, str]], row_gap: float, dummy_gap: float, center: bool) -> dict[str, float]:
    """The height of every item (y down, each column's stack centred on 0). ``up`` /
    ``down``: an item's extent above / below its centre; nodes keep ``row_gap`` between
    them, pass-through points ``dummy_gap``. ``center``: stacks only, no sweeps."""
    index = {k: i for i, k in enumerate(k for keys in cols for k in keys)}
    y = [0.0] * len(index)
    col_idx = [[index[k] for k in keys] for keys in cols]
    col_seps = [[down[a] + up[b] + (row_gap if is_node[a] and is_node[b] else dummy_gap)
                 for a, b in zip(keys, keys[1:])] for keys in cols]
    for idx, seps in zip(col_idx, col_seps):
        acc = 0.0
        for j, i in enumerate(idx):
            if j:
                acc += seps[j - 1]
            y[i] = acc
        mid = (y[idx[0]] + y[idx[-1]]) / 2 if idx else 0.0
        for i in idx:
            y[i] -= mid
    if not center:
        _sweep(y, col_idx, col_seps, [is_node[k] for k in index], index, links)
    return {k: y[i] for k, i in index.items()}


def _sweep(y, col_idx, col_seps, node_flags, index, links) -> None:
    # A fixed number of sweeps: alternating directions, they settle into a small
    # oscillation rather than an exact fixed point.
    nbrs: list[list[int]] = [[] for _ in y]
    for a, b in links:
        nbrs[index[a]].append(index[b])
        nbrs[index[b]].append(index[a])
    cols = []  # per column: its items, and each item's (index, neighbours, denominator, weight, offset)
    for c, idx in enumerate(col_idx):
        if idx:
            offs = _offsets(col_seps[c])
            cols.append((idx, [(i, nbrs[i], len(nbrs[i]) + SELF_WEIGHT, 1.0 if node_flags[i] else DUMMY_WEIGHT, o)
                               for i, o in zip(idx, offs)]))
    backward = cols[::-1]
    self_weight = SELF_WEIGHT
    for it in range(SWEEPS):
        for idx, items in (cols if it % 2 == 0 else backward):
            if len(idx) == 1:
                i, ns, denom, _, _ = items[0]
                y[i] = _target(y, i, ns, denom)
                continue
            # Isotonic regression (pool adjacent violators) of the items' targets under the
            # column's minimum spacing, inlined (the sweeps' inner loop): each item's target,
            # less its offset, joins the blocks; a block below one it does not clear merges
            # with it. tests/test_ordering.py checks this against the plain algorithm.
            blocks: list[tuple[float, float, int]] = []  # value, weight, count
            for i, ns, denom, w, o in items:
                if ns:
                    # _target, inlined: the two must agree
                    pull = 0  # added left to right, as floats.left_sum (the same bits on every Python)
                    for n in ns:
                        pull += y[n]
                    v = (pull + self_weight * y[i]) / denom - o
                else:
                    v = y[i] - o
                count = 1
                while blocks and blocks[-1][0] > v:  # merge with the block before: its mean, weighted
                    v1, w1, count1 = blocks.pop()
                    v, w, count = (v1 * w1 + v * w) / (w1 + w), w1 + w, count + count1
                blocks.append((v, w, count))
            k = 0
            for v, _, count in blocks:
                for i, _, _, _, o in items[k:k + count]:
                    y[i] = v + o
                k += count


def _target(y, i, ns, denom) -> float:
    """Where item i's neighbours (and, a little, its own height) pull it (inlined in
    _sweep's inner loop: the two must agree)."""
    if not ns:
        return y[i]
    pull = 0  # added left to right, as floats.left_sum (the same bits on every Python)
    for n in ns:
        pull += y[n]
    return (pull + SELF_WEIGHT * y[i]) / denom
