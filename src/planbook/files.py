"""Writing files safely: atomic replacement that keeps file modes, and kernel-held locks.

- `atomic_write_text`/`atomic_write_bytes`: write a temporary file beside the target, then
  rename it over the target, so a reader sees the old bytes or the new, never half of them.
  The new file gets the mode the target had (or, for a new file, what the umask allows for
  0666), not mkstemp's 0600.
- `exclusive_lock`: an fcntl.flock on a lock file. The kernel drops it when the holder's
  process ends, however it ends, so a lock is never "stale": no PID to guess about.
- `shared_lock`: the same flock taken shared: readers (a build, verify) hold it together and
  keep the exclusive holder (an ingest's store_lock) out while they read, and wait for it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path


def umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(old)
    return old


def new_file_mode() -> int:
    """The mode open() gives a new file: 0666 less the umask."""
    return 0o666 & ~umask()


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return new_file_mode()


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in `folder` durable (a file's fsync does not cover its name)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durable(path: Path, content: bytes, mode: int) -> None:
    """Write a new file and fsync it: its bytes are on disk before anyone renames it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def atomic_write_bytes(path: Path, content: bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `content` atomically and durably (temporary file fsynced, renamed,
    folder fsynced); the file keeps its mode (or gets `mode`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    final_mode = _mode_for(path) if mode is None else mode
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    write_durable(tmp, content, final_mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


@contextlib.contextmanager
def exclusive_lock(lock_file: Path, *, wait: bool = True,
                   on_wait: Callable[[], None] | None = None,
                   busy: Callable[[], BaseException] | None = None) -> Iterator[None]:
    """Hold an exclusive flock on `lock_file` (a file, or a folder) for the `with` block.

    wait=True blocks until the holder releases it (calling `on_wait` once first, e.g. to
    say so); wait=False raises `busy()` at once. The lock file itself is left in place:
    deleting it would let a second process lock a new inode while the first holds the old.
    """
    with _flock(lock_file, shared=False, wait=wait, on_wait=on_wait, busy=busy):
        yield


@contextlib.contextmanager
def shared_lock(lock_file: Path, *, wait: bool = True,
                on_wait: Callable[[], None] | None = None,
                busy: Callable[[], BaseException] | None = None) -> Iterator[None]:
    """Hold a shared flock on `lock_file` (a file, or a folder): any number of shared holders
    at once, none while an exclusive one holds it (arguments as for `exclusive_lock`)."""
    with _flock(lock_file, shared=True, wait=wait, on_wait=on_wait, busy=busy):
        yield


@contextlib.contextmanager
def _flock(lock_file: Path, *, shared: bool, wait: bool,
           on_wait: Callable[[], None] | None,
           busy: Callable[[], BaseException] | None) -> Iterator[None]:
    lock_file = Path(lock_file)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; planbook is run on Linux and macOS
        yield
        return
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    if lock_file.is_dir():  # a folder can be locked itself: no lock file left behind
        fd = os.open(lock_file, os.O_RDONLY)
    else:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise (busy() if busy else BlockingIOError(f"{lock_file} is locked")) from None
            if on_wait:
                on_wait()
            fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
