"""The seed's own graphs (shared/reference/seed-q3.md), built by the family code."""
from __future__ import annotations

import networkx as nx

from . import dag, mlp

MLP_VALUES = {"X1": -1, "X2": 1, "W1[1]": 1, "W1[2]": -1, "B1": 0, "W2[1]": -1, "W2[2]": 0.5,
              "B2": 0.5, "W3[1]": 1, "W3[2]": 1, "B3": -1}

DAG_SPEC = dag.Spec(
    hidden=(dag.Hidden("add", ("X1", "X2"), "scale"),        # H1 = W1 * (X1 + X2)
            dag.Hidden("mul", ("X1", "X2", "X3"), "shift"),  # H2 = X1 X2 X3 + B1
            dag.Hidden("min", ("X1", "H1"), None),           # H3 = min(X1, H1)
            dag.Hidden("div", ("H2", "H1"), "scale"),        # H4 = W2 * (H2 / H1)
            dag.Hidden("max", ("H1", "H4"), None)),          # H5 = max(H1, H4)
    final_op="sub")                                          # Yhat = sigma(H3 - H5)
DAG_VALUES = {"X1": 2, "X2": -1, "X3": 1, "W1": 1.5, "B1": 1, "W2": -3}


def graph_a() -> nx.DiGraph:
    return mlp.construct([2, 2, 1], MLP_VALUES, alpha=0.1, target=0)


def graph_b() -> nx.DiGraph:
    return dag.construct(DAG_SPEC, DAG_VALUES, target=1)
