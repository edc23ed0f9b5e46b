"""Warm kernels and the save-at-end engine, for real: papermill runs tiny chapters whose kernels
are forked from the warm server; a crashed or hung chapter fails alone with its notebook kept."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from support import resolve
from test_pipeline import COUNTY, PERIOD, VILLAGES, chapter_notebook, tiny  # noqa: F401

from planbook.chapters.catalogue import Chapter
from planbook.errors import ExecutionError
from planbook.run import execute as pipeline
from planbook.run import kernels

pytestmark = pytest.mark.skipif(not kernels.ENABLED, reason="warm kernels need Linux fork")

PROBE = Chapter("probe", "探针", "三")


def probe_notebook(code: str) -> nbformat.NotebookNode:
    nb = chapter_notebook(PROBE.title)
    nb.cells.append(new_code_cell(textwrap.dedent(code)))
    return nb


def outputs(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)


def test_chapters_run_in_fresh_forked_kernels_with_their_own_namespace(tiny: Path):  # noqa: F811
    # The stack is imported before the first cell (forked from the server), yet each chapter
    # is its own process with a namespace holding only its parameters and its cells.
    code = """\
        import sys, os
        print("warm", "pandas" in sys.modules and "planbook.chapters.report" in sys.modules)
        print("leak", "marker" in globals())
        marker = 1
        print("pid", os.getpid())
        print("history", get_ipython().history_manager.enabled)
        """
    nbformat.write(probe_notebook(code), tiny / "notebooks" / "probe.ipynb")
    other = Chapter("probe2", "探针二", "三")
    nbformat.write(probe_notebook(code), tiny / "notebooks" / "probe2.ipynb")
    result = pipeline.run(resolve(PERIOD, tiny), chapters=[PROBE, other], progress=False, jobs=1)
    texts = [outputs(result.output / f"{c.key}.ipynb") for c in (PROBE, other)]
    for text in texts:
        assert "warm True" in text and "leak False" in text
        # cells are not written to the analyst's IPython history (nor wait on its sqlite)
        assert "history False" in text
    pids = {line for t in texts for line in t.splitlines() if line.startswith("pid")}
    assert len(pids) == 2
    nb = nbformat.read(result.output / "probe.ipynb", as_version=4)
    assert nb.metadata.papermill["parameters"]["period"] == PERIOD
    # Servers are not gathered project after project: idle ones are closed.
    assert sum(1 for s in kernels._servers.values() if s.proc.poll() is None) <= 2
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


def test_the_notebook_is_written_once_not_at_every_cell(tiny: Path, monkeypatch):  # noqa: F811
    import papermill.engines
    import papermill.execute

    serialized: list[str] = []  # papermill's writes, at every cell and its final one
    for module in (papermill.engines, papermill.execute):
        monkeypatch.setattr(module, "write_ipynb",
                            lambda nb, path: serialized.append((path, len(nb.cells))))
    written: list[str] = []
    real = nbformat.write
    monkeypatch.setattr(nbformat, "write",
                        lambda nb, path, **kw: (written.append(Path(path).name),
                                                real(nb, path, **kw)))
    pipeline.run(resolve(PERIOD, tiny), chapters=[COUNTY], progress=False)
    assert serialized in ([], [(None, 0)])  # papermill's final "write" without a path: a stub
    assert written == [COUNTY.notebook]  # finished in memory, written once
    nb = nbformat.read(tiny / "reports" / PERIOD / "notebooks" / COUNTY.notebook, as_version=4)
    assert nb.metadata.papermill.output_path == f"reports/{PERIOD}/notebooks/{COUNTY.notebook}"


def test_a_crashed_kernel_fails_its_chapter_alone_and_keeps_the_notebook(tiny: Path):  # noqa: F811
    nbformat.write(probe_notebook("print('before')\n"), tiny / "notebooks" / "ok.ipynb")
    ok = Chapter("ok", "正常", "三")
    crash = probe_notebook("print('before the crash')")
    crash.cells.append(new_code_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))
    crash.cells.append(new_code_cell("print('not reached')"))
    nbformat.write(crash, tiny / "notebooks" / "probe.ipynb")
    with pytest.raises(ExecutionError) as info:
        pipeline.run(resolve(PERIOD, tiny), chapters=[ok, PROBE, VILLAGES], progress=False)
    [failure] = info.value.failures
    assert failure.chapter.key == "probe"
    kept = tiny / "build" / "failed" / PERIOD / "probe.ipynb"
    assert "before the crash" in outputs(kept) and "not reached" not in outputs(kept)
    cache = tiny / "build" / "cache" / PERIOD
    assert (cache / "ok.json").is_file() and (cache / "03_villages.json").is_file()


def test_a_hung_chapter_times_out_alone_and_its_kernel_is_killed(tiny: Path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pipeline, "CELL_TIMEOUT", 3)
    hang = probe_notebook("import os\nprint('pid', os.getpid(), flush=True)\n"
                          "import time\ntime.sleep(600)")
    nbformat.write(hang, tiny / "notebooks" / "probe.ipynb")
    with pytest.raises(ExecutionError) as info:
        pipeline.run(resolve(PERIOD, tiny), chapters=[PROBE, COUNTY], progress=False)
    [failure] = info.value.failures
    assert failure.chapter.key == "probe"
    kept = tiny / "build" / "failed" / PERIOD / "probe.ipynb"
    pid = int(next(line for line in outputs(kept).splitlines() if line.startswith("pid"))
              .split()[1])
    for _ in range(50):  # SIGKILL to its process group; the server reaps it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the hung kernel {pid} is still running")
    assert (tiny / "build" / "cache" / PERIOD / "02_county.json").is_file()


class _Channel:
    """A fake channel: get_msg returns the queued messages, then raises Empty."""

    def __init__(self, *messages):
        self.messages, self.reads = list(messages), 0

    async def get_msg(self, timeout=None):
        from queue import Empty

        self.reads += 1
        if not self.messages:
            raise Empty
        return self.messages.pop(0)


def _msg(kind: str, parent: str, **content) -> dict:
    return {"msg_type": kind, "parent_header": {"msg_id": parent}, "content": content}


def test_the_kernel_client_is_ready_at_the_kernel_info_idle_not_after_a_quiet_wait():
    import asyncio

    client = kernels.WarmKernelManager().client()
    assert isinstance(client, kernels.WarmKernelClient)
    sent = []
    client.kernel_info = lambda: sent.append(f"req{len(sent) + 1}") or sent[-1]
    client._handle_kernel_info_reply = lambda msg: None

    async def alive():
        return True

    client._async_is_alive = alive
    # IOPub not yet connected at the first request (nothing arrives): ask again, as
    # jupyter_client does; at the second, the request's `idle` ends the wait.
    client._shell_channel = _Channel(_msg("kernel_info_reply", "req1"),
                                    _msg("kernel_info_reply", "req2"))
    iopub = [_msg("iopub_welcome", ""), _msg("status", "req2", execution_state="busy"),
             _msg("status", "req2", execution_state="idle"),
             _msg("status", "later", execution_state="busy")]

    class IOPub(_Channel):
        async def get_msg(self, timeout=None):
            if len(sent) < 2:  # still the first request: nothing is delivered
                from queue import Empty

                raise Empty
            return await super().get_msg(timeout)

    client._iopub_channel = IOPub(*iopub)
    asyncio.run(client.wait_for_ready(timeout=10))
    assert sent == ["req1", "req2"]
    # Read up to that `idle` and no further: no wait for 0.2 s of silence.
    assert client.iopub_channel.messages == [iopub[-1]]
    client.context.destroy()


def test_the_fork_server_is_started_early_only_when_a_chapter_must_run(tiny: Path,  # noqa: F811
                                                                       monkeypatch):
    rp = resolve(PERIOD, tiny)
    assert pipeline.warm_up(rp, chapters=[COUNTY])  # never run: sure to execute
    pipeline.run(rp, chapters=[COUNTY], progress=False)
    started = []
    monkeypatch.setattr(kernels, "prestart", lambda *a: started.append(a))
    assert not pipeline.warm_up(rp, chapters=[COUNTY])  # run before: perhaps all cached
    assert pipeline.run(rp, chapters=[COUNTY], progress=False).cached == [COUNTY.key]
    assert started == []  # an unchanged run starts no server
    assert pipeline.warm_up(rp, force=True, chapters=[COUNTY]) and len(started) == 1


def test_what_a_cell_prints_is_one_output_however_the_kernel_cut_it(tiny: Path):  # noqa: F811
    # Flushed in between: the kernel sends two pieces (its output thread's timing does this
    # by itself now and then); the published cell has one stream per run of prints.
    nbformat.write(probe_notebook("""\
        import sys
        from IPython.display import display
        sys.stdout.write("one "); sys.stdout.flush(); print("line")
        display({"text/plain": "shown"}, raw=True)
        print("after"); sys.stdout.flush(); print("again")
        """), tiny / "notebooks" / "probe.ipynb")
    pipeline.run(resolve(PERIOD, tiny), chapters=[PROBE], progress=False)
    nb = nbformat.read(tiny / "reports" / PERIOD / "notebooks" / "probe.ipynb", as_version=4)
    outs = nb.cells[-1].outputs
    assert [(o.output_type, o.get("text")) for o in outs] == [
        ("stream", "one line\n"), ("display_data", None), ("stream", "after\nagain\n")]


def test_outputs_keep_their_order_when_flushes_do_not_wait(tiny: Path):  # noqa: F811
    # Forked kernels flush without waiting for the IO thread (run.outstream): prints,
    # displays and stderr, interleaved within a cell and across cells, arrive in order.
    nbformat.write(probe_notebook("""\
        import sys
        from IPython.display import display
        print(type(sys.stdout).__name__)
        for n in range(40):
            print(f"p{n}")
            display({"text/plain": f"d{n}"}, raw=True)
        print("tail", file=sys.stderr)
        """), tiny / "notebooks" / "probe.ipynb")
    nb = probe_notebook("print('next cell')")
    nb.cells[-1:-1] = nbformat.read(tiny / "notebooks" / "probe.ipynb", as_version=4).cells[-1:]
    nbformat.write(nb, tiny / "notebooks" / "probe.ipynb")
    pipeline.run(resolve(PERIOD, tiny), chapters=[PROBE], progress=False)
    done = nbformat.read(tiny / "reports" / PERIOD / "notebooks" / "probe.ipynb", as_version=4)
    seen = [o.get("text") or o["data"]["text/plain"] for o in done.cells[-2].outputs]
    assert seen[0] == "QueuedOutStream\np0\n"
    assert seen[1:] == [x for n in range(40) for x in (f"d{n}", f"p{n + 1}\n")][:-1] + ["tail\n"]
    assert [o.text for o in done.cells[-1].outputs] == ["next cell\n"]
