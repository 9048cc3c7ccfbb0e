"""Background work on a huey queue: the queue built from settings (`queue.py`), the tasks
(`tasks.py`), what they do (`variants.py`), and the consumer `images-server worker` runs
(`worker.py`). Tasks run through the same render spine as requests."""
