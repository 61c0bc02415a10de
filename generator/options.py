"""Generation options: the nice-number rules and family shapes, with defaults."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    """Frozen and hashable (tuples, not lists): the redraw loop caches per Options."""

    value_step: float = 0.5          # inputs and parameters are multiples of this
    value_min: float = -3.0
    value_max: float = 3.0
    kink_margin: float = 0.05        # no relu / leaky-ReLU input this close to 0
    tie_margin: float = 0.1          # no min/max operands this close together
    min_divisor: float = 0.5         # no divisor smaller than this in size
    output_min: float = 0.05         # sigmoid output kept inside [output_min, output_max]
    output_max: float = 0.95
    grad_min: float = 0.01           # non-zero answer gradients within [grad_min, grad_max]
    grad_max: float = 10.0
    quotient_decimals: int = 3       # hidden values must be exact to this many decimals
    leaky_alpha: float = 0.1
    mlp_inputs: tuple[int, ...] = (2, 3)       # choices for the number of inputs
    mlp_hidden: tuple[int, ...] = (2, 3)       # choices for units per hidden layer
    mlp_layers: tuple[int, ...] = (1,)         # hidden layers; (1, 2) enables the harder option
    dag_hidden: tuple[int, ...] = (5,)         # hidden nodes H1..Hn
    max_attempts: int = 20000

    def grid(self) -> list[float]:
        """The allowed values: multiples of value_step in [value_min, value_max]."""
        lo = round(self.value_min / self.value_step)
        hi = round(self.value_max / self.value_step)
        # Rounded: 9 * 0.3 is 2.6999999999999997, which answers.json would print as is.
        return [round(k * self.value_step, 12) for k in range(lo, hi + 1)]


DEFAULT = Options()
