"""Errors of scenario files."""

from streams.exceptions import ReboundError


class ScenarioError(ReboundError):
    """A scenario file is invalid; the message names the file, the line and the field."""

    def __init__(self, source: str, line: int, field: str, problem: str) -> None:
        self.source, self.line, self.field, self.problem = source, line, field, problem
        super().__init__(f"{source}:{line}: {field}: {problem}")


class ScenarioErrors(ScenarioError):
    """Every mistake found in one or more files, one per line; its own file, line and field
    are the first one's."""

    def __init__(self, errors: list[ScenarioError]) -> None:
        first = errors[0]
        super().__init__(first.source, first.line, first.field, first.problem)
        self.errors = errors
        self.args = ("\n".join(str(e) for e in errors),)

    def __str__(self) -> str:
        return str(self.args[0])


def raise_all(errors: list[ScenarioError]) -> None:
    """Raise the one error, or all of them together; nothing when there is none."""
    flat = [e for error in errors for e in (getattr(error, "errors", None) or [error])]
    if len(flat) == 1:
        raise flat[0]
    if flat:
        raise ScenarioErrors(flat)
