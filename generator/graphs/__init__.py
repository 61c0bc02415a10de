"""Topology families, one module each. Adding a family: write the module with a
FAMILY and list it here; the registry-wide tests pick it up."""
from . import dag, mlp
from .common import Family

FAMILIES: dict[str, Family] = {f.name: f for f in (mlp.FAMILY, dag.FAMILY)}
