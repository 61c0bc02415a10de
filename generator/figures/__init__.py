"""Figures as Typst code drawn with built-in shapes (no packages): the computational
graphs of Question 3, the leaky-ReLU plot and the training curves of Question 2."""
from __future__ import annotations

import networkx as nx

from .clarity import ambiguities
from .diagrams import clear_cache, figure_code, graph_layout, shared_layout
from .geometry import Layout, problems
from .plots import curves_plot, leaky_relu_plot
from .render import render

__all__ = ["graph_figure", "graph_layout", "shared_layout", "clear_cache", "render", "problems", "ambiguities", "Layout",
           "leaky_relu_plot", "curves_plot"]


def graph_figure(g: nx.DiGraph, family: str, show_input_values: bool = True,
                 name_intermediates: bool = False) -> str:
    """Typst code (a ``#block`` pasted into markup) drawing a solved graph of ``family``;
    ``name_intermediates`` (for the answer key) also names the nodes the statement leaves
    unnamed, as the worked solution does (u_4, z; an mlp unit's z_u). Both versions share
    one layout: the key's figure is the question's with the names added."""
    return figure_code(g, family, show_input_values, name_intermediates)
