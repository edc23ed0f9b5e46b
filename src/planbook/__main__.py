"""`python -m planbook`: the same command line as `planbook`."""

import sys

from planbook.cli import main

sys.exit(main())
