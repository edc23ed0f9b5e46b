"""planbook: the evaluation report book of Jiande's 2023-2027 county-seat and 千万工程 plan."""

import os

# openpyxl writes its XML through lxml when lxml is installed (python-docx, a test tool,
# brings it), with other bytes than its own writer; the workbooks must not depend on what
# else is installed (book.downloads cuts them into fixed parts). Read when openpyxl is first
# imported, so set before anything imports it.
os.environ.setdefault("OPENPYXL_LXML", "False")

from planbook.errors import PlanbookError
from planbook.plan.periods import Period, parse_period
from planbook.plan.registry import Registry, load_registry

__version__ = "0.1.0"

__all__ = ["PlanbookError", "Period", "Registry", "load_registry", "parse_period", "__version__"]
