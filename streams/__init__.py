"""Rebound: a streaming trigger processor for cross-selling."""

from pathlib import Path

__version__ = "0.1.0"


def check_compiled(package: Path) -> None:
    """In a source checkout, refuse modules compiled (by mypyc, see setup.py) from older
    sources: Python imports the compiled module, not the edited ``.py`` beside it. An
    installed package (no ``setup.py`` beside it) is left alone: its files' times are the
    installer's."""
    if not (package.parent / "setup.py").exists():
        return
    for compiled in package.rglob("*.so"):
        source = compiled.with_name(compiled.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            raise ImportError(
                f"{source} changed after it was compiled to {compiled.name}: run `make install` "
                "to compile it again (REBOUND_COMPILE=0 make install: plain Python)"
            )


check_compiled(Path(__file__).parent)
