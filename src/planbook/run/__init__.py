"""Stage 5, executing a period: the period resolved once (`period.resolve`), then papermill
execution of its chapter notebooks with cache, staging and publishing (`execute.run`)."""

# The kernel every chapter runs in. Here, not in `execute` or `kernels`: `verify` starts the
# kernels' fork server before importing execute's stack (pandas), and execute loads
# jupyter_client (through `kernels`) only when a chapter runs.
KERNEL = "python3"
