"""How the render runs pandoc: its runtime options, and runs in parallel in their order."""

from __future__ import annotations

import sys
import threading
import time

from planbook.book import pandoc

# A stand-in for a pandoc built without runtime options: it refuses any GHCRTS.
REFUSES_RTS = ("import os, sys\n"
               "if 'GHCRTS' in os.environ:\n"
               "    sys.stderr.write('pandoc: Most RTS options are disabled.'); sys.exit(1)\n"
               "sys.stdout.write(sys.stdin.read().upper())")


def test_a_pandoc_refusing_runtime_options_is_run_without_them(monkeypatch):
    monkeypatch.delenv("GHCRTS", raising=False)
    monkeypatch.setattr(pandoc, "_runtime_ok", True)
    proc = pandoc.run_pandoc([sys.executable, "-c", REFUSES_RTS], b"text")
    assert (proc.returncode, proc.stdout) == (0, b"TEXT")
    assert pandoc._runtime_ok is False  # not tried again


def test_real_pandoc_takes_the_runtime_options(monkeypatch):
    monkeypatch.delenv("GHCRTS", raising=False)
    monkeypatch.setattr(pandoc, "_runtime_ok", True)
    assert pandoc.pandoc("# 标题\n\n正文\n", "html5").startswith("<h1")
    assert pandoc._runtime_ok is True


def test_largest_first_keeps_the_items_order_and_starts_the_largest():
    started: list[str] = []
    lock = threading.Lock()

    def work(item: str) -> str:
        with lock:
            started.append(item)
        time.sleep(0.01)
        return item.upper()

    items = ["b", "dddd", "a", "ccc"]
    assert pandoc.largest_first(work, items, len, workers=1) == ["B", "DDDD", "A", "CCC"]
    assert started == ["dddd", "ccc", "b", "a"]


def test_the_most_urgent_waiting_run_gets_the_next_slot():
    slots = pandoc._Slots(1)
    order: list[int] = []
    with slots(pandoc.CODE):  # the only slot is taken: the others queue
        threads = [threading.Thread(target=lambda u=u: _take(slots, u, order))
                   for u in (pandoc.CODE, pandoc.PAGES, pandoc.PDF)]
        for t in threads:
            t.start()
            time.sleep(0.05)  # arrive in this order
    for t in threads:
        t.join()
    assert order == [pandoc.PDF, pandoc.PAGES, pandoc.CODE]


def _take(slots, urgency: int, order: list[int]) -> None:
    with slots(urgency):
        order.append(urgency)
