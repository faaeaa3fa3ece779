"""The worker process's settings: logging that builds no record below its level, and the
garbage collector's thresholds."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import faust
import pytest

from streams.edge.faust.runtime import GC_YOUNG_THRESHOLD, faust_worker, tune_gc


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.mark.parametrize("level", ["warning", "error"])
def test_a_quiet_worker_builds_no_debug_record(root_logger: logging.Logger, level: str) -> None:
    app = faust.App("test-worker-logging", autodiscover=False)
    worker = faust_worker(app, level)
    root_logger.handlers[:] = [logging.NullHandler()]
    worker.on_setup_root_logger(root_logger, logging.getLevelName(level.upper()))
    assert not logging.getLogger("aiokafka.conn").isEnabledFor(logging.DEBUG)


@pytest.fixture
def gc_settings() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_collections_wait_for_more_than_a_batch_allocates(gc_settings: None) -> None:
    tune_gc()
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0
