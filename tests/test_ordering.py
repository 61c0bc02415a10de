"""The row ordering's shortcuts (sweeps stop once they cycle, a swap's cost change worked
out from what it touches) must pick the very order the plain algorithm picks: every
sweep run, every candidate swap costed in full. Likewise the row placement's inlined
pooling must place every item where plain isotonic regression puts it."""
from hypothesis import given, settings, strategies as st

from generator.figures import ordering, rows
from generator.floats import left_sum


def plain_order(cols, links, sweeps, ranks, pairs, straight=0.1):
    preds, succs = {}, {}
    for a, b in links:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)
    cur = [ordering._keep_ranks(list(c), ranks) for c in cols]
    cost_of = ordering._Cost(cur, links, pairs, straight)
    best, best_cost = [list(c) for c in cur], cost_of(cur)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        nbrs = preds if down else succs
        for c in (range(1, len(cur)) if down else range(len(cur) - 2, -1, -1)):
            pos = ordering._positions(cur)
            cur[c] = ordering._keep_ranks(sorted(cur[c], key=lambda k: (
                sum(pos[n] for n in nbrs[k]) / len(nbrs[k]) if nbrs.get(k) else pos[k], pos[k])), ranks)
        if cost_of(cur) < best_cost - 1e-9:
            best, best_cost = [list(c) for c in cur], cost_of(cur)
    for _ in range(6):
        improved = False
        for keys in best:
            for i in range(len(keys) - 1):
                if keys[i] in ranks and keys[i + 1] in ranks:
                    continue
                before = cost_of(best)
                keys[i], keys[i + 1] = keys[i + 1], keys[i]
                if cost_of(best) < before - 1e-9:
                    improved = True
                else:
                    keys[i], keys[i + 1] = keys[i + 1], keys[i]
        if not improved:
            break
    return best


@st.composite
def layered(draw):
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=6))
    cols = [[f"c{c}k{i}" for i in range(n)] for c, n in enumerate(sizes)]
    links = []
    for c in range(len(cols) - 1):
        for a in cols[c]:
            for b in draw(st.lists(st.sampled_from(cols[c + 1]), max_size=3, unique=True)):
                links.append((a, b))
    keys = [k for col in cols for k in col]
    ranked = draw(st.lists(st.sampled_from(cols[0]), unique=True))
    ranks = {k: r for r, k in enumerate(ranked)}
    pairs = draw(st.lists(st.tuples(st.sampled_from(keys), st.sampled_from(keys)).filter(lambda p: p[0] != p[1]),
                          max_size=4))
    return cols, links, draw(st.integers(0, 12)), ranks, pairs


@settings(max_examples=400, deadline=None)
@given(layered())
def test_order_matches_the_plain_algorithm(case):
    cols, links, sweeps, ranks, pairs = case
    assert ordering.order(cols, links, sweeps, ranks, pairs) == plain_order(cols, links, sweeps, ranks, pairs)


def isotonic(targets, weights, seps):
    """Least squares y close to targets with y[i+1] - y[i] >= seps[i] (pool adjacent violators)."""
    offs = [0.0]
    for s in seps:
        offs.append(offs[-1] + s)
    blocks = []  # [value, weight, count]
    for t, w, o in zip(targets, weights, offs):
        block = [t - o, w, 1]
        while blocks and blocks[-1][0] > block[0]:  # merge with the block before: its mean, weighted
            v1, w1, n1 = blocks.pop()
            v, w = block[0], block[1]
            block = [(v1 * w1 + v * w) / (w1 + w), w1 + w, n1 + block[2]]
        blocks.append(block)
    out = []
    for v, _, count in blocks:
        out.extend(v + o for o in offs[len(out):len(out) + count])
    return out


def plain_place(cols, up, down, is_node, links, row_gap, dummy_gap):
    y = rows.place(cols, up, down, is_node, links, row_gap, dummy_gap, center=True)
    nbrs = {k: [] for k in y}
    for a, b in links:
        nbrs[a].append(b)
        nbrs[b].append(a)
    for sweep in range(rows.SWEEPS):
        for keys in (cols if sweep % 2 == 0 else cols[::-1]):
            targets = [(left_sum(y[n] for n in nbrs[k]) + rows.SELF_WEIGHT * y[k]) / (len(nbrs[k]) + rows.SELF_WEIGHT)
                       if nbrs[k] else y[k] for k in keys]
            weights = [1.0 if is_node[k] else rows.DUMMY_WEIGHT for k in keys]
            seps = [down[a] + up[b] + (row_gap if is_node[a] and is_node[b] else dummy_gap)
                    for a, b in zip(keys, keys[1:])]
            y.update(zip(keys, isotonic(targets, weights, seps)))
    return y


@st.composite
def stacked(draw):
    cols, links = draw(layered())[:2]
    keys = [k for col in cols for k in col]
    extent = st.floats(0.0, 2.0, allow_nan=False)
    up = {k: draw(extent) for k in keys}
    down = {k: draw(extent) for k in keys}
    is_node = {k: draw(st.booleans()) for k in keys}
    return cols, up, down, is_node, links, draw(st.floats(0.1, 1.5)), draw(st.floats(0.0, 1.0))


@settings(max_examples=400, deadline=None)
@given(stacked())
def test_rows_match_plain_isotonic_regression(case):
    assert rows.place(*case, center=False) == plain_place(*case)
