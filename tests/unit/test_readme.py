from pathlib import Path

from streams.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_every_setting_with_its_default() -> None:
    text = README.read_text()
    for variable, value, _ in Settings().describe():
        assert f"`{variable}`" in text, f"{variable} is missing from the README"
        if value:
            assert f"| `{variable}` | `{value}` |" in text, f"{variable}'s default is stale"
