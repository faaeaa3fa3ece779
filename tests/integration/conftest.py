from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from devtools.localstack.process import free_port
from devtools.localstack.services import kafka_service, redis_service
from devtools.localstack.worker import WorkerProcess
from streams.edge.kafka.topics import ensure_topics
from streams.edge.redis.catalog import load_catalog_file
from streams.settings import Settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with kafka_service(tmp_path_factory.mktemp("kafka"), "REBOUND_TEST") as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_service(tmp_path_factory.mktemp("redis"), "REBOUND_TEST") as url:
        yield url


FAST_SCENARIO = """\
id: coffee-fast
version: 1
trigger:
  event: delivery
  order_contains: {category: coffee-machine}
steps:
  - id: accessories
    wait: 3s
    channel: email
    template: coffee-accessories
    recommendations: [CAPS-INTENSO-50, DESCALER-500, CAPS-BOX]
  - id: reminder
    wait: 4s
    when: not opened(accessories)
    channel: email
    template: coffee-accessories-reminder
    recommendations: [CAPS-INTENSO-50]
"""
CATALOG = Path(__file__).resolve().parents[2] / "scenarios" / "catalog.yaml"


@pytest.fixture(scope="session")
def catalog(redis_url: str) -> None:
    """The demo catalog in the session's Redis."""
    load_catalog_file(redis.Redis.from_url(redis_url), CATALOG)


@pytest.fixture
def fast_settings(settings: Settings, tmp_path: Path, catalog: None) -> Settings:
    """``settings`` with the coffee scenario on short delays: 3 s, then a reminder 4 s later."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "coffee-fast.yaml").write_text(FAST_SCENARIO)
    ensure_topics(settings)  # readers may subscribe before the worker starts
    return replace(settings, scenarios_dir=str(folder))


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
        session_timeout_s=6.0,
        timer_tick_s=0.1,
        scenarios_dir=str(Path(__file__).resolve().parents[2] / "scenarios"),
    )


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[Settings], WorkerProcess]]:
    """Start ``rebound worker`` processes; all are stopped at the end of the test."""
    workers: list[WorkerProcess] = []

    def start(settings: Settings, env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(settings, tmp_path / f"worker-{len(workers)}.log", env)
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
