"""sha256 of files and bytes: the one digest every cache, store row and manifest uses.

Kept free of heavy imports so an unchanged re-run, which only hashes, starts fast.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ByContent:
    """The last `size` values made, each served again while its key is the same. A key names
    the content it was made from (sha256 of files, never their times: a file rewritten within
    one clock tick must not be served stale). A value whose making fails is not kept, and the
    oldest is dropped before a new one is made, so at most `size` are held at once. Threads
    (the periods of a range) may share it; two may make the same value at once."""

    def __init__(self, size: int = 1):
        self._size = size
        self._items: dict = {}
        self._lock = threading.Lock()

    def get(self, key, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items[key] = self._items.pop(key)  # now the newest
                return self._items[key]
            while len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.pop(next(iter(self._items)))
        return value
