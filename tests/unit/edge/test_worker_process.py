"""The worker process's settings and probes: logging that builds no record below its level
(JSON lines on demand), the garbage collector's thresholds, liveness and readiness."""

from __future__ import annotations

import gc
import json
import logging
import logging.config
from collections.abc import Iterator

import faust
import pytest

from streams.edge.faust.runtime import (
    GC_YOUNG_THRESHOLD,
    faust_worker,
    gc_young_threshold,
    json_logging,
    tune_gc,
)
from streams.edge.faust.web import STUCK_STOPPING_S, Stopping, live_report, ready_report


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
    tune_gc(5000)
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0


def test_larger_batches_wait_for_more_allocations() -> None:
    assert gc_young_threshold(1000) == GC_YOUNG_THRESHOLD
    assert gc_young_threshold(20_000) > GC_YOUNG_THRESHOLD


def test_json_log_lines_carry_time_level_logger_and_message(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(json_logging("info"))
    logging.getLogger("streams.test").warning("batch of %d handled", 3)
    logging.getLogger("streams.test").debug("not at info")
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "streams.test"
    assert record["message"] == "batch of 3 handled"
    assert "time" in record


def test_a_json_worker_prints_no_banner() -> None:
    app = faust.App("test-worker-json", autodiscover=False)
    assert faust_worker(app, "info", "json").quiet
    assert not faust_worker(app, "info").quiet


class App:
    def __init__(self, started: bool = True, in_recovery: bool = False) -> None:
        self.started = started
        self.in_recovery = in_recovery
        self.should_stop = False


def test_liveness_fails_only_on_a_stop_that_hangs() -> None:
    app, stopping = App(), Stopping()
    assert live_report(app, stopping, 0.0)["status"] == "alive"
    app.should_stop = True
    assert live_report(app, stopping, 100.0)["status"] == "alive", "a stop takes a while"
    assert live_report(app, stopping, 100.0 + STUCK_STOPPING_S / 2)["status"] == "alive"
    assert live_report(app, stopping, 101.0 + STUCK_STOPPING_S)["status"] == "stuck"


def test_readiness_waits_for_the_start_and_the_tables_recovery() -> None:
    assert ready_report(App(started=False))["status"] == "starting"
    assert ready_report(App(in_recovery=True))["status"] == "recovering"
    assert ready_report(App())["status"] == "ready"
    stopping = App()
    stopping.should_stop = True
    assert ready_report(stopping)["status"] == "stopping"
