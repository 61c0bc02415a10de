"""make-pset: randomized deep-learning problem sets with matched keys."""
__version__ = "0.1.1"
