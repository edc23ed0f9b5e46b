"""Stage 5, executing a period: the period resolved once (`period.resolve`), then papermill
execution of its chapter notebooks with cache, staging and publishing (`execute.run`)."""
