"""planbook: the evaluation report book of Jiande's 2023-2027 county-seat and 千万工程 plan."""

from planbook.errors import PlanbookError
from planbook.plan.periods import Period, parse_period
from planbook.plan.registry import Registry, load_registry

__version__ = "0.1.0"

__all__ = ["PlanbookError", "Period", "Registry", "load_registry", "parse_period", "__version__"]
