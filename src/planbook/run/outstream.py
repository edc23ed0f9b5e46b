"""The output stream of a chapter kernel: ipykernel's, without a wait at every flush.

ipykernel's OutStream.flush(), called from the kernel's main thread, hands the flush to the IO
thread and blocks until that thread has run it. The kernel flushes stdout and stderr before
every display and after every cell, so the 指标档案's 296 cells spent about 0.6 s of their run
waiting (measured). Here the main thread takes the buffered text itself and queues its send:
the IO thread sends every IOPub message (stream, display, status) in the order queued, so the
text still goes before the display or `idle` that follows it. A lock keeps one flush at a
time (the IO thread's own timed flush included), so two pieces of text are queued in the order
they were taken.
"""

from __future__ import annotations

import threading

from ipykernel.iostream import OutStream


class QueuedOutStream(OutStream):
    """OutStream whose flush() from the main thread queues the send and returns
    (IPKernelApp.outstream_class of forked kernels, run.kernels)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._taking = threading.Lock()

    def _flush(self) -> None:
        with self._taking:  # take the text and queue its send as one step
            super()._flush()

    def flush(self) -> None:
        thread = self.pub_thread.thread if self.pub_thread else None
        if thread is not None and thread.is_alive() and thread.ident != threading.get_ident():
            self._flush()  # queued now, behind what was queued before, ahead of what follows
        else:
            super().flush()
