"""``rebound report``: the HTML page of a replay, opened in headless Chromium (Debian's
``chromium``, which ``make system`` installs) and its screenshot read back: the charts are
drawn where the page puts them, in the channels' colours. And the page of a running worker,
from its metrics."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from devtools.demo import BIKE_LINE, DemoProducer, order_event
from devtools.localstack.command_reader import CommandReader
from streams.settings import Settings
from streams.tools.report import CHANNEL_COLOURS, FUNNEL_COLOUR
from tests.integration.cli import rebound
from tests.unit.test_replay import recording, write_jsonl


def screenshot(page: Path, png: Path, height: int = 1400) -> Image.Image:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: `make system` installs Debian's")
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--disable-background-networking", f"--screenshot={png}",
         f"--window-size=1000,{height}", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert png.exists(), done.stderr
    return Image.open(png).convert("RGB")


def pixels_of(image: Image.Image, colour: str, box: tuple[int, int, int, int]) -> int:
    rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    region = image.crop(box)
    return sum(1 for pixel in region.get_flattened_data() if pixel == rgb)


def test_the_report_of_a_replay_draws_its_charts(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "events.jsonl", recording())
    prediction = tmp_path / "prediction.json"
    settings = Settings()
    replayed = rebound(settings, "replay", str(events), "--quiet", "--json", str(prediction))
    assert replayed.returncode == 0, replayed.stderr
    page = tmp_path / "report.html"
    made = rebound(settings, "report", str(prediction), "-o", str(page))
    assert made.returncode == 0, made.stderr

    image = screenshot(page, tmp_path / "report.png", height=2400)
    everywhere = (0, 0, *image.size)
    assert pixels_of(image, CHANNEL_COLOURS["email"], everywhere) > 2000, "email bars"
    assert pixels_of(image, CHANNEL_COLOURS["push"], everywhere) > 500, "the push bar"
    assert pixels_of(image, FUNNEL_COLOUR, everywhere) > 5000, "the funnels' bars"
    text = page.read_text()
    assert text.index('id="uplift"') < text.index('id="funnel"') < text.index('id="sends-per-day"')
    assert "no control group: set a holdout to measure uplift" in text


def test_the_report_of_a_running_worker(
    settings: Settings, start_worker: Any, catalog: None, tmp_path: Path
) -> None:
    start_worker(settings)
    reader = CommandReader(settings)
    customer = f"bike-{uuid.uuid4().hex[:6]}"
    producer = DemoProducer(settings)
    producer.send(
        order_event(customer, "o1", int(time.time() * 1000), [BIKE_LINE], channel="store")
    )
    producer.flush()
    reader.wait_for(lambda c: any(x["customer_id"] == customer for x in c), 60, "the push")
    page = tmp_path / "worker.html"
    url = f"http://127.0.0.1:{settings.web_port}/metrics"
    made = rebound(settings, "report", "--metrics", url, "-o", str(page))
    assert made.returncode == 0, made.stderr
    text = page.read_text()
    assert f"From {url}" in text
    assert "in-store-bike" in text
    assert '<rect class="bar"' in text
    image = screenshot(page, tmp_path / "worker.png", height=2400)
    assert pixels_of(image, CHANNEL_COLOURS["push"], (0, 0, *image.size)) > 500
    unreachable = rebound(settings, "report", "--metrics", "http://127.0.0.1:9/metrics")
    assert unreachable.returncode == 2
    assert "cannot read http://127.0.0.1:9/metrics" in unreachable.stderr
    no_prometheus = rebound(settings, "report", "--prometheus", "http://127.0.0.1:9")
    assert no_prometheus.returncode == 2
    assert "cannot read http://127.0.0.1:9/api/v1/query" in no_prometheus.stderr
