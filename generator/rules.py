"""The nice-number and degeneracy rules. Each is a small named check on a draw, a Draft
(graphs/draft.py) whose values (and, for the gradient rules, grads) the passes have
written: True means the draw is fine. The redraw loop reports the one that fails most."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .options import Options

if TYPE_CHECKING:
    from .graphs.draft import Draft


# The rules run on every draw of the redraw loop (dozens per student). They read a
# Draft (graphs/draft.py; Draft.of(g) for a DiGraph): its node dicts directly, and the
# nodes of an op or role through lists it finds once per structure.


def leaves_on_grid(d: Draft, o: Options) -> bool:
    """Inputs and parameters are multiples of value_step inside the value range."""
    for n in d.with_op("input", "param"):
        v = d.nodes[n]["value"]
        k = v / o.value_step
        if abs(k - round(k)) > 1e-9 or not o.value_min - 1e-9 <= v <= o.value_max + 1e-9:
            return False
    return True


def no_kink_at_zero(d: Draft, o: Options) -> bool:
    """No relu / leaky-ReLU input near 0, where the derivative is ambiguous."""
    nodes = d.nodes
    return all(abs(nodes[nodes[n]["args"][0]]["value"]) >= o.kink_margin for n in d.with_op("relu", "leaky_relu"))


def no_min_max_tie(d: Draft, o: Options) -> bool:
    """min/max operands at least tie_margin apart, so the routing is unambiguous."""
    nodes = d.nodes
    for n in d.with_op("min", "max"):
        xs = sorted([nodes[a]["value"] for a in nodes[n]["args"]])
        if any(b - a < o.tie_margin for a, b in zip(xs, xs[1:])):
            return False
    return True


def divisor_not_small(d: Draft, o: Options) -> bool:
    """No division by anything smaller than min_divisor in size."""
    nodes = d.nodes
    return all(abs(nodes[nodes[n]["args"][1]]["value"]) >= o.min_divisor for n in d.with_op("div"))


def hidden_values_short(d: Draft, o: Options) -> bool:
    """Hidden nodes come out exact to a few decimals (quotients included), so the
    forward pass stays exact by hand."""
    scale = 10 ** o.quotient_decimals
    for n in d.with_role("hidden"):
        v = d.nodes[n]["value"] * scale
        if abs(v - round(v)) > 1e-6:
            return False
    return True


def output_unsaturated(d: Draft, o: Options) -> bool:
    """The sigmoid output stays inside [output_min, output_max]."""
    return all(o.output_min <= d.nodes[n]["value"] <= o.output_max for n in d.with_op("sigmoid"))


def leaf_gradients_nonzero(d: Draft, o: Options) -> bool:
    """Every input and parameter gets a non-zero gradient: no answer cell is a freebie."""
    return all(abs(d.nodes[n]["grad"]) > 1e-9 for n in d.with_op("input", "param"))


def gradients_moderate(d: Draft, o: Options) -> bool:
    """Answer-table gradients neither huge nor tiny (a tiny one would sit inside the
    grading tolerance); exact zeros (a branch a min/max did not pick) are allowed."""
    for n in d.with_role("input", "param", "hidden"):
        grad = d.nodes[n]["grad"]
        if grad != 0 and not o.grad_min <= abs(grad) <= o.grad_max:
            return False
    return True


def some_unit_on_leaky_branch(d: Draft, o: Options) -> bool:
    """At least one leaky-ReLU unit has a negative input, so the slope matters."""
    nodes = d.nodes
    return any(nodes[nodes[n]["args"][0]]["value"] < 0 for n in d.with_op("leaky_relu"))


def has_routing_gate(d: Draft, o: Options) -> bool:
    """At least one min or max gate."""
    return bool(d.with_op("min", "max"))


def has_computed_product(d: Draft, o: Options) -> bool:
    """A product or quotient of two computed or input nodes, not just a parameter times something."""
    for n in d.with_op("mul", "div"):
        if sum(d.nodes[a]["op"] != "param" for a in d.nodes[n]["args"]) >= 2:
            return True
    return False


def has_fan_out(d: Draft, o: Options) -> bool:
    """Some node feeds two or more others, so gradients must be summed."""
    return max(d.out_degrees().values()) >= 2


def few_parameters(d: Draft, o: Options) -> bool:
    """A few parameters, as in the seed: at least one weight W and one bias B, at most four."""
    params = d.with_op("param")
    return (any(p.startswith("W") for p in params) and any(p.startswith("B") for p in params)
            and len(params) <= 4)


def all_reach_loss(d: Draft, o: Options) -> bool:
    """Every node has a path to the loss: as a path can always go on to a consumer,
    in an acyclic graph that is the loss being the only node nothing consumes."""
    return d.sinks() == ["L"]


# The rules that read only the graph's structure (ops, operands, names), never a value:
# a new draw of values cannot change their verdict.
STRUCTURAL_RULES = (has_routing_gate, has_computed_product, has_fan_out, few_parameters, all_reach_loss)


NUMERIC = (leaves_on_grid, no_kink_at_zero, no_min_max_tie, divisor_not_small,
           hidden_values_short, output_unsaturated, leaf_gradients_nonzero, gradients_moderate)


# The rules that read gradients. The ones before the first of them in a family's list
# need only the forward pass, so the redraw loop checks them before running backward.
GRADIENT_RULES = (leaf_gradients_nonzero, gradients_moderate)


def split_at_gradients(rules) -> tuple[tuple, tuple]:
    """(rules checkable after the forward pass, the rest), order kept: checking the
    first part, then the second after backward, finds the same first broken rule."""
    rules = tuple(rules)
    for i, rule in enumerate(rules):
        if rule in GRADIENT_RULES:
            return rules[:i], rules[i:]
    return rules, ()


def split_structural(rules) -> tuple[tuple, tuple]:
    """(the structural rules, the rest), each in the given order."""
    rules = tuple(rules)
    return (tuple(r for r in rules if r in STRUCTURAL_RULES),
            tuple(r for r in rules if r not in STRUCTURAL_RULES))


def first_broken(d: Draft, rules, o: Options) -> str | None:
    for rule in rules:
        if not rule(d, o):
            return rule.__name__
    return None
