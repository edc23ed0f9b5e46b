"""Changing the data package all or nothing: one commit protocol for every writer.

Every command that changes data/ (ingest of figures, statements, project stages and village
ledgers; `sample` and `sample --remove`) stages its whole change in a `Commit` and applies it
under the store lock (observations.store_lock):

1. stage: each new file content is written to a temporary file beside its target
   (`.<name>.<id>.planbook-tmp`) and fsynced; an append stages the bytes to add the same way;
   nothing the readers see has changed yet.
2. journal: data/.planbook-commit.json lists every step (target, temporary file, sha256, and
   for an append the target's size before it), written to a temporary name, fsynced and
   renamed: the journal exists only whole.
3. apply: each temporary file is renamed over its target (an append is written at the old
   size, after truncating to it); each touched folder is fsynced.
4. the journal is removed (and data/ fsynced): the commit is done.

A kill at any point leaves either the old package or a journal from which `recover` (run by
the next command, under the lock) finishes the commit: without a journal the staged files are
deleted (rolled back), with one every step is redone (each is idempotent: a rename already done
finds no temporary file, an append truncates to the recorded size and writes again). A change
of a single file needs no journal: its rename is the commit.

An OSError while staging or applying (disk full, read-only folder, no permission) becomes an
EnvironmentFault naming the file (exit 2); the staged files are removed and the package is as
it was (a failure while applying is finished or undone by the next command's recovery).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from planbook.errors import EnvironmentFault
from planbook.files import exclusive_lock, fsync_dir, new_file_mode, write_durable
from planbook.hashing import sha256_bytes

JOURNAL = ".planbook-commit.json"
TEMP_TAG = ".planbook-tmp"
STAGE_PREFIX = ".planbook-stage-"  # a copy of the store folders a `sample` works in


def _step(name: str) -> None:
    """A point of the protocol where a crash is survivable; tests inject crashes here."""


def _fault(exc: OSError, path: Path) -> EnvironmentFault:
    return EnvironmentFault.from_os(exc, path)


class Commit:
    """The staged change of one submission (or one `sample`): see the module docstring."""

    def __init__(self, data: Path):
        self.data = Path(data)
        self.ops: list[dict] = []
        self._temps: list[Path] = []
        self._tag = f"{os.getpid()}-{id(self):x}"

    def _rel(self, path: Path) -> str:
        return Path(path).relative_to(self.data).as_posix()

    def _temp_for(self, target: Path) -> Path:
        return target.parent / f".{target.name}.{self._tag}-{len(self.ops)}{TEMP_TAG}"

    def _stage_bytes(self, target: Path, content: bytes, mode: int) -> Path:
        temp = self._temp_for(target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_durable(temp, content, mode)
        except OSError as exc:
            raise _fault(exc, target) from None
        self._temps.append(temp)
        _step("stage")
        return temp

    def staged(self, path: Path) -> bool:
        return any(op["target"] == self._rel(path) for op in self.ops)

    def write(self, path: Path, content: bytes, *, mode: int | None = None) -> None:
        """Replace (or create) `path` with `content`; unchanged content stages nothing."""
        path = Path(path)
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_size == len(content) and \
                    path.read_bytes() == content:
                return
        if mode is None:
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode)
            except OSError:
                mode = new_file_mode()
        temp = self._stage_bytes(path, content, mode)
        self.ops.append({"op": "replace", "target": self._rel(path), "temp": self._rel(temp),
                         "sha256": sha256_bytes(content)})

    def append(self, path: Path, content: bytes) -> None:
        """Add `content` at the end of the existing file `path` (the journal keeps its size:
        the append is redone from there, never twice)."""
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise _fault(exc, path) from None
        temp = self._stage_bytes(path, content, 0o600)
        self.ops.append({"op": "append", "target": self._rel(path), "temp": self._rel(temp),
                         "old_size": size, "size": len(content),
                         "sha256": sha256_bytes(content)})

    def adopt(self, path: Path, staged: Path) -> None:
        """Replace `path` with a file already written under data/ (a sample stage's)."""
        try:
            with open(staged, "rb") as fh:
                os.fsync(fh.fileno())
        except OSError as exc:
            raise _fault(exc, staged) from None
        self.ops.append({"op": "replace", "target": self._rel(path), "temp": self._rel(staged)})

    def remove(self, path: Path) -> None:
        if Path(path).exists():
            self.ops.append({"op": "remove", "target": self._rel(path)})

    def discard(self) -> None:
        for temp in self._temps:
            with contextlib.suppress(OSError):
                temp.unlink()
        self._temps.clear()
        self.ops.clear()

    def apply(self) -> None:
        """Journal (when more than one step, or an append), apply, remove the journal."""
        if not self.ops:
            return
        journal = self.data / JOURNAL
        single = len(self.ops) == 1 and self.ops[0]["op"] != "append"
        if not single:
            body = json.dumps({"ops": self.ops}, ensure_ascii=False)
            text = json.dumps({"ops": self.ops, "sha256": sha256_bytes(body.encode())},
                              ensure_ascii=False)
            try:
                tmp = self.data / f"{JOURNAL}.{self._tag}{TEMP_TAG}"
                write_durable(tmp, text.encode("utf-8"), 0o600)
                os.replace(tmp, journal)
                fsync_dir(self.data)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                self.discard()
                raise _fault(exc, journal) from None
            _step("journal")
        try:
            _redo(self.data, self.ops)
        except OSError as exc:
            # A journal is in place: the next command finishes the commit (or, single, the
            # rename did not happen and the temporary file is cleaned up then).
            raise _fault(exc, Path(exc.filename or self.data)) from None
        self._temps.clear()
        if not single:
            try:
                journal.unlink()
                fsync_dir(self.data)
            except OSError as exc:
                raise _fault(exc, journal) from None
            _step("done")


def _redo(data: Path, ops: list[dict]) -> None:
    """Apply every step; each may already have been applied (recovery runs it again)."""
    folders = set()
    for op in ops:
        target = data / op["target"]
        folders.add(target.parent)
        if op["op"] == "replace":
            temp = data / op["temp"]
            if temp.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, target)
                _step("rename")
        elif op["op"] == "append":
            temp = data / op["temp"]
            if temp.exists():  # gone only once every append is done (removed last)
                content = temp.read_bytes()
                fd = os.open(target, os.O_WRONLY)
                try:
                    os.ftruncate(fd, op["old_size"])
                    os.lseek(fd, op["old_size"], os.SEEK_SET)
                    view = memoryview(content)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                finally:
                    os.close(fd)
                _step("append")
        elif op["op"] == "remove":
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            _step("remove")
    for folder in sorted(folders):
        if folder.is_dir():
            fsync_dir(folder)
    for op in ops:
        if op["op"] == "append":
            with contextlib.suppress(FileNotFoundError):
                (data / op["temp"]).unlink()


@contextlib.contextmanager
def transaction(data: Path) -> Iterator[Commit]:
    """A Commit applied when the block ends normally, discarded when it raises. Call it with
    the store lock held."""
    tx = Commit(data)
    try:
        yield tx
    except BaseException:
        tx.discard()
        raise
    tx.apply()


# ---------------------------------------------------------------- a staged copy (sample)

# The folders of data/ a whole-store rewrite (`sample`) may change; the rest is linked.
STORE_FOLDERS = ("observations", "statements", "projects", "villages", "evaluation", "sample")


def _visible_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


@contextlib.contextmanager
def staged_copy(data: Path) -> Iterator[Path]:
    """A copy of the store folders to change in place (a writer that reads back what it
    wrote, as `sample` does), committed as one Commit when the block ends normally.

    The copy is data/.planbook-stage-<pid>/data (inside data/: same file system, so its files
    are renamed into place; named data/ so paths shown relative to its parent read the same);
    the registry and the archive are symlinked into it. Call it with the store lock held."""
    data = Path(data)
    holder = data / f"{STAGE_PREFIX}{os.getpid()}"
    stage = holder / "data"
    try:
        stage.mkdir(parents=True)
        for entry in sorted(data.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.name in STORE_FOLDERS and entry.is_dir():
                shutil.copytree(entry, stage / entry.name, symlinks=True,
                                ignore=shutil.ignore_patterns(".*"))
            else:
                (stage / entry.name).symlink_to(entry.resolve())
    except OSError as exc:
        shutil.rmtree(holder, ignore_errors=True)
        raise _fault(exc, Path(exc.filename or holder)) from None
    try:
        yield stage
        with transaction(data) as tx:
            for name in STORE_FOLDERS:
                old, new = _visible_files(data / name), _visible_files(stage / name)
                for rel, path in new.items():
                    target = data / name / rel
                    if rel not in old or old[rel].read_bytes() != path.read_bytes():
                        tx.adopt(target, path)
                for rel, path in old.items():
                    if rel not in new:
                        tx.remove(path)
    except OSError as exc:
        raise _fault(exc, Path(exc.filename or stage)) from None
    finally:
        shutil.rmtree(holder, ignore_errors=True)


# ---------------------------------------------------------------- recovery


def _stray(data: Path) -> Iterator[Path]:
    """Temporary files and stage folders left by a killed writer, in data/ and its folders."""
    if not data.is_dir():
        return
    folders = [data] + [p for p in data.iterdir() if p.is_dir() and not p.is_symlink()
                        and not p.name.startswith(STAGE_PREFIX)]
    for folder in folders:
        with os.scandir(folder) as it:
            for entry in it:
                name = entry.name
                if name.endswith(TEMP_TAG) or (name.startswith(".") and name.endswith(".tmp")) \
                        or (folder == data and name.startswith(STAGE_PREFIX)):
                    yield Path(entry.path)


def _load_journal(path: Path) -> list[dict] | None:
    """The journal's steps, or None when it is unreadable (then nothing was applied)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        ops = doc["ops"]
        body = json.dumps({"ops": ops}, ensure_ascii=False)
        return ops if sha256_bytes(body.encode()) == doc["sha256"] else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recover(data: Path) -> str | None:
    """Finish or roll back a commit a kill interrupted, and remove its leftovers; returns
    what was done, in the words the command prints (None: nothing to do). Call it with the
    store lock held."""
    data = Path(data)
    journal = data / JOURNAL
    said = None
    try:
        if journal.exists():
            ops = _load_journal(journal)
            if ops is not None:
                _redo(data, ops)
                said = f"上次入库在提交中途中断，已按提交日志完成（{len(ops)} 步）"
            journal.unlink()
            fsync_dir(data)
        leftovers = list(_stray(data))
        for p in leftovers:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
        if leftovers and said is None:
            said = f"上次入库在提交中途中断，已回滚（删除未提交的临时文件 {len(leftovers)} 个）"
    except OSError as exc:
        raise EnvironmentFault.from_os(exc, doing="恢复中断的入库") from None
    return said


def recover_if_idle(data: Path) -> str | None:
    """`recover` for a command that only reads the store: done when no writer holds the lock
    (a writer recovers itself when it takes the lock)."""
    data = Path(data)
    if not (data / JOURNAL).exists() and not any(True for _ in _stray(data)):
        return None

    class _Busy(Exception):
        pass

    try:
        with exclusive_lock(data, wait=False, busy=_Busy):
            return recover(data)
    except _Busy:
        return None
    except OSError as exc:
        raise EnvironmentFault.from_os(exc, data, doing="锁定") from None


def say(message: str | None) -> None:
    if message:
        print(f"planbook: {message}", file=sys.stderr)

