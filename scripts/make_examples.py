"""Write book/_example-*.md, the methodology's worked examples, from the registry and data.

Run it after changing the registry or the sample data: `python scripts/make_examples.py`
(a test checks the files match what the library computes).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from planbook.chapters.methodology import write_examples  # noqa: E402
from planbook.plan.registry import load_registry  # noqa: E402
from planbook.store import observations  # noqa: E402


def main() -> None:
    reg = load_registry(ROOT / "data")
    for path in write_examples(reg, observations.load_all(ROOT / "data", reg),
                               ROOT / "book"):
        print(path)


if __name__ == "__main__":
    main()
