"""Public grading API (the code lives in generator/grading/)."""
from .grading import *  # noqa: F401,F403
from .grading import __all__  # noqa: F401
