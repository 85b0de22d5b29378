"""gunicorn settings read automatically from the working directory (the repository root).

With several worker processes, Prometheus metrics live per process; `PROMETHEUS_MULTIPROC_DIR`
makes every worker write them to files that `/metrics` adds up. A worker that exits must be marked
dead so its live gauges stop counting. See docs/operations.md.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
