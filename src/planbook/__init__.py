"""planbook: the evaluation report book of Jiande's 2023-2027 county-seat and 千万工程 plan."""

import os

# openpyxl serialises through lxml when lxml is installed (python-docx brings it) and through
# its own writer otherwise; the bytes differ. Pin the one writer so a download's bytes do not
# depend on what else is installed. Read once, when openpyxl is first imported.
os.environ.setdefault("OPENPYXL_LXML", "False")

from planbook.errors import PlanbookError
from planbook.plan.periods import Period, parse_period
from planbook.plan.registry import Registry, load_registry

__version__ = "0.1.0"

__all__ = ["PlanbookError", "Period", "Registry", "load_registry", "parse_period", "__version__"]
