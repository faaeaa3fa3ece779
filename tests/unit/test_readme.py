from pathlib import Path

from streams.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_every_setting_with_its_default() -> None:
    text = README.read_text()
    for variable, value, _ in Settings().describe():
        assert f"`{variable}`" in text, f"{variable} is missing from the README"
        if value:
            assert f"| `{variable}` | `{value}` |" in text, f"{variable}'s default is stale"


def test_the_readme_s_event_lines_replay_without_a_bad_line(tmp_path: Path) -> None:
    """The one example line per kind that the README gives for ``rebound replay``."""
    from streams.tools.simulation import read_events

    text = README.read_text()
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "events.jsonl"
    path.write_text(block)
    found = list(read_events(path))
    assert [type(getattr(r, "event", r)).__name__ for _, r in found] == [
        "Order",
        "Delivery",
        "Open",
        "Click",
        "Consent",
    ]
