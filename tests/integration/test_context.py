"""The customer's context through the real broker and Redis, as a CRM team would run it:
profiles loaded with ``rebound profiles``, a consent withdrawn mid-scenario, three scenarios
under a cap of two, a B2B subscription renewed."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.asyncio import Redis

from devtools.demo import DemoProducer, consent_event, order_event
from devtools.localstack.command_reader import CommandReader
from devtools.localstack.worker import WorkerProcess
from streams.edge.kafka.topics import ensure_topics
from streams.edge.redis.profiles import KEY_PREFIX, SEPARATOR, Profiles
from streams.engine.context import Profile
from streams.metrics import create_metrics
from streams.settings import Settings
from tests.integration.cli import rebound

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios"


def two_sms(run: str) -> str:
    return f"""\
id: sms-twice-{run}
version: 1
trigger:
  event: order
  order_contains: {{category: phone-{run}}}
steps:
  - id: first
    wait: 1s
    channel: [sms, email]
    template: t
    recommendations: [CASE-NOVA-12]
  - id: second
    wait: 6s
    channel: sms
    template: t
    recommendations: [CHARGER-30W]
"""


def one_email(name: str, run: str, wait: str) -> str:
    return f"""\
id: {name}
version: 1
trigger:
  event: order
  order_contains: {{category: gift-{run}}}
steps:
  - id: only
    wait: {wait}
    channel: email
    template: t
    recommendations: [CAPS-BOX]
"""


def capsules(run: str) -> str:
    """Capsules and pods: the catalog says which machine each fits."""
    return f"""\
id: capsules-{run}
version: 1
trigger:
  event: order
  order_contains: {{category: machine-{run}}}
steps:
  - id: only
    wait: 1s
    channel: email
    template: t
    recommendations: [CAPS-INTENSO-50, CAPS-PODS-40, DESCALER-500]
"""


CAP_OF_TWO = """\
pressure:
  overall: {max: 2, per: 1d}
"""


RUN = uuid.uuid4().hex[:6]
"""In the categories of this module's scenarios: the session's Redis and broker are shared."""


@pytest.fixture
def context_settings(settings: Settings, tmp_path: Path, catalog: None) -> Settings:
    run = RUN
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "sms-twice.yaml").write_text(two_sms(run))
    for name, wait in (("first", "1s"), ("second", "2s"), ("third", "3s")):
        (folder / f"gift-{name}.yaml").write_text(one_email(f"gift-{name}", run, wait))
    (folder / "b2b-onboarding.yaml").write_text((SHIPPED / "b2b-onboarding.yaml").read_text())
    (folder / "policies.yaml").write_text(CAP_OF_TWO)
    (folder / "capsules.yaml").write_text(capsules(run))
    ensure_topics(settings)
    return replace(settings, scenarios_dir=str(folder), profile_cache_s=0.0)


def line(category: str, sku: str = "ANY") -> dict[str, Any]:
    return {"sku": sku, "name": "a product", "category": category, "quantity": 1, "unit_price": 1}


def test_profiles_load_from_csv_and_json_lines_with_bad_lines_reported(
    settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    run = uuid.uuid4().hex[:6]
    csv_file = tmp_path / "profiles.csv"
    csv_file.write_text(
        "customer_id,consent.email,consent.sms,has_app,timezone,country,attr.skin_type\n"
        f"a-{run},1,1,0,America/New_York,US,dry\n"
        f"b-{run},1,maybe,0,Europe/Paris,FR,\n"  # line 3: a consent that is not 1 or 0
        f"c-{run},0,,1,,,oily\n"
    )
    done = rebound(settings, "profiles", "--quiet", str(csv_file))
    assert done.returncode == 1, done.stderr
    assert f"{csv_file}: line 3: consent.sms:" in done.stderr
    assert "maybe" not in done.stderr, "values are not printed: they may be personal"
    assert "loaded 2 profiles" in done.stdout
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.hgetall(f"{KEY_PREFIX}a-{run}") == {
        "consent.email": "1",
        "consent.sms": "1",
        "has_app": "0",
        "timezone": "America/New_York",
        "country": "US",
        "attr.skin_type": "dry",
    }
    assert client.exists(f"{KEY_PREFIX}b-{run}") == 0
    assert client.hgetall(f"{KEY_PREFIX}c-{run}") == {
        "consent.email": "0",
        "has_app": "1",
        "attr.skin_type": "oily",
    }

    jsonl = tmp_path / "profiles.jsonl"
    jsonl.write_text(
        json.dumps({"customer_id": f"a-{run}", "consent": {"sms": False}, "unsubscribed": True})
        + "\n{not json\n"
    )
    done = rebound(settings, "profiles", "--quiet", str(jsonl))
    assert "line 2: not a profile object" in done.stderr
    assert client.hgetall(f"{KEY_PREFIX}a-{run}") == {"consent.sms": "0", "unsubscribed": "1"}


def test_consent_cap_and_subscription_rules_hold_in_the_worker(
    context_settings: Settings, start_worker: Any, redis_url: str, tmp_path: Path
) -> None:
    settings, run = context_settings, RUN
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    texter, capped, company = f"sms-{run}", f"cap-{run}", f"b2b-{run}"
    pods, leaver = f"pods-{run}", f"leaver-{run}"
    profiles = tmp_path / "people.csv"
    profiles.write_text(f"customer_id,consent.sms\n{texter},1\n")
    assert rebound(settings, "profiles", "--quiet", str(profiles)).returncode == 0
    loaded = rebound(settings, "catalog", str(SHIPPED / "catalog.yaml"))
    assert loaded.returncode == 0, loaded.stderr

    worker: WorkerProcess = start_worker(settings)
    reader = CommandReader(settings)
    producer = DemoProducer(settings)
    now = int(time.time() * 1000)
    producer.send(order_event(texter, "o1", now, [line(f"phone-{run}")]))
    producer.send(order_event(capped, "o1", now, [line(f"gift-{run}")]))
    producer.send(order_event(pods, "o1", now, [line(f"machine-{run}", "CM-POD-2")]))
    producer.send(order_event(leaver, "o1", now, [line(f"phone-{run}")]))
    subscription = {"plan": "annual", "period_index": 1, "id": f"SUB-{run}"}
    producer.send(order_event(company, "o1", now, [line("b2b-software")], "b2b", subscription))
    producer.flush()

    # The first SMS goes out on SMS (the profile's yes); the consent is then withdrawn.
    reader.wait_for(lambda c: any(x["customer_id"] == texter for x in c), 30, "the first SMS")
    first = next(c for c in reader.commands if c["customer_id"] == texter)
    assert (first["step_id"], first["channel"]) == ("first", "sms")
    client.hset(f"{KEY_PREFIX}{texter}", "consent.sms", "0")

    # Another customer follows the link "unsubscribe" of the first message: a consent event.
    reader.wait_for(lambda c: any(x["customer_id"] == leaver for x in c), 30, "a first e-mail")
    link = next(c["command_id"] for c in reader.commands if c["customer_id"] == leaver)
    producer.send(consent_event(leaver, None, False, now + 500, f"unsub-{run}", link))
    producer.flush()
    worker.wait_for(
        lambda: (
            worker.metric(
                "rebound_instances_ended_total", scenario=f"sms-twice-{run}", reason="unsubscribed"
            )
            == 1
        ),
        30,
        "the unsubscribe to end the leaver's instance",
    )

    # Three scenarios for one customer the same day under a cap of two: the third waits.
    reader.wait_for(
        lambda c: len([x for x in c if x["customer_id"] == capped]) == 2, 30, "two gift emails"
    )
    worker.wait_for(
        lambda: (
            worker.metric("rebound_steps_deferred_total", scenario="gift-third", reason="cap") == 1
        ),
        30,
        "the third gift email deferred by the cap",
    )
    worker.wait_for(
        lambda: (
            worker.metric(
                "rebound_instances_ended_total", scenario=f"sms-twice-{run}", reason="completed"
            )
            == 1
        ),
        30,
        "the second SMS step to fall due",
    )
    # The renewal of the same subscription, months later in the customer's life: nothing.
    renewal = {"plan": "annual", "period_index": 2, "id": f"SUB-{run}"}
    producer.send(order_event(company, "o2", now + 1000, [line("b2b-software")], "b2b", renewal))
    producer.flush()
    time.sleep(3)
    reader.poll()
    producer.close()

    texts = [c for c in reader.commands if c["customer_id"] == texter]
    assert [c["step_id"] for c in texts] == ["first"], "no SMS once the consent is withdrawn"
    dropped = worker.metric(
        "rebound_steps_dropped_total", scenario=f"sms-twice-{run}", reason="no_consent"
    )
    assert dropped == 1
    gifts = sorted(c["scenario_id"] for c in reader.commands if c["customer_id"] == capped)
    assert gifts == ["gift-first", "gift-second"]
    assert worker.metric("rebound_timers_pending") >= 1, "the third waits for its slot"
    started = worker.metric("rebound_instances_started_total", scenario="b2b-onboarding-options")
    assert started == 1, "the renewal starts no second onboarding"
    [machine] = [c for c in reader.commands if c["customer_id"] == pods]
    skus = [r["sku"] for r in machine["recommendations"]]
    assert skus == ["CAPS-PODS-40", "DESCALER-500"], "the capsules fit another machine"
    assert worker.metric("rebound_events_total", kind="order") == 6
    assert worker.metric("rebound_events_total", kind="consent") == 1
    assert [c["step_id"] for c in reader.commands if c["customer_id"] == leaver] == ["first"]
    reader.close()


async def test_the_worker_reads_profiles_whatever_their_ids_and_values_hold(
    redis_url: str,
) -> None:
    """Profiles are read a batch at a time, joined by a separator: an id or a value that holds
    it is still read whole; a customer without a profile reads as None."""
    run = uuid.uuid4().hex[:6]
    odd_id, odd_value, plain = f"a{SEPARATOR}{run}", f"b-{run}", f"c-{run}"
    client = redis.Redis.from_url(redis_url)
    client.hset(f"{KEY_PREFIX}{odd_id}", mapping={"consent.sms": "1"})
    client.hset(f"{KEY_PREFIX}{odd_value}", mapping={"attr.note": f"x{SEPARATOR}y", "has_app": "1"})
    client.hset(f"{KEY_PREFIX}{plain}", mapping={"country": "US"})
    async with Redis.from_url(redis_url, decode_responses=True) as reader:
        profiles = Profiles(reader, create_metrics(), cache_s=60.0)
        read = await profiles.get_many([odd_id, odd_value, plain, f"none-{run}"])
        assert read == {
            odd_id: Profile(consent={"sms": True}),
            odd_value: Profile(has_app=True, attributes={"note": f"x{SEPARATOR}y"}),
            plain: Profile(country="US"),
            f"none-{run}": None,
        }
        client.delete(f"{KEY_PREFIX}{plain}")
        assert (await profiles.get_many([plain]))[plain] == Profile(country="US"), "cached"


def test_a_catalog_with_bad_entries_loads_the_good_ones_and_names_the_bad(
    settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    run = uuid.uuid4().hex[:6]
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "products:\n"
        f"  GOOD-{run}: {{name: Good, price: 1490, url: 'https://shop/p/g', fits: [M-{run}]}}\n"
        f"  CENTS-{run}: {{name: Cheap, price: 14.90, url: 'https://shop/p/c'}}\n"
    )
    done = rebound(settings, "catalog", str(path))
    assert done.returncode == 1
    assert f"{path}:3: products.CENTS-{run}.price: 14.9 is not in minor units" in done.stderr
    assert "Traceback" not in done.stderr
    assert "loaded 1 products" in done.stdout
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.hget(f"rebound:catalog:GOOD-{run}", "price") == "1490"
    assert client.exists(f"rebound:catalog:CENTS-{run}") == 0
    assert client.hget("rebound:catalog:fits", f"GOOD-{run}") == f"M-{run}"


def test_validate_refuses_recommended_products_the_catalog_does_not_know(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "gift.yaml").write_text(one_email("gift", "v", "1d").replace("CAPS-BOX", "NOPE-1"))
    (folder / "catalog.yaml").write_text((SHIPPED / "catalog.yaml").read_text())
    done = rebound(settings, "validate", str(folder))
    assert done.returncode == 1, done.stderr
    assert f"error  {folder / 'gift.yaml'}:" in done.stdout
    assert "steps[0].recommendations[0]: NOPE-1 is not in" in done.stdout
    assert "catalog.yaml: " in done.stdout
