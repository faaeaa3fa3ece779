from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.localstack.process import free_port
from streams.settings import Settings
from tests.integration.services import kafka_service, redis_service
from tests.integration.worker_process import WorkerProcess


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with kafka_service(tmp_path_factory.mktemp("kafka")) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_service(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def settings(kafka_bootstrap: str, redis_url: str, tmp_path: Path) -> Settings:
    """Settings of a fresh world: its own app id (consumer group), topic prefix and web port."""
    run = uuid.uuid4().hex[:8]
    return Settings(
        app_id=f"rebound-test-{run}",
        broker_url=f"kafka://{kafka_bootstrap}",
        redis_url=redis_url,
        topic_prefix=f"t{run}.",
        partitions=4,
        store="memory://",
        data_dir=str(tmp_path / "data"),
        web_host="127.0.0.1",
        web_port=free_port(),
        log_level="info",
    )


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[Settings], WorkerProcess]]:
    """Start ``rebound worker`` processes; all are stopped at the end of the test."""
    workers: list[WorkerProcess] = []

    def start(settings: Settings) -> WorkerProcess:
        worker = WorkerProcess(settings, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
