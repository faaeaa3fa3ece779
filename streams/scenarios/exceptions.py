"""Errors of scenario files."""

from streams.exceptions import ReboundError


class ScenarioError(ReboundError):
    """A scenario file is invalid; the message names the file, the line and the field."""

    def __init__(self, source: str, line: int, field: str, problem: str) -> None:
        self.source, self.line, self.field, self.problem = source, line, field, problem
        super().__init__(f"{source}:{line}: {field}: {problem}")
