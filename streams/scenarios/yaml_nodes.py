"""YAML read with the line of every field, so errors can say where they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from streams.scenarios.exceptions import ScenarioError

T = TypeVar("T")


def _yaml_problem(error: yaml.YAMLError) -> str:
    """The parser's complaint in one line, with its column: "not valid YAML: mapping values
    are not allowed here (column 7); quote a value holding ': '"."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    column = f" (column {mark.column + 1})" if mark is not None else ""
    hint = ""
    if "mapping values are not allowed" in problem:
        hint = "; quote a value that holds ': ', e.g. at: \"10:00\""
    return f"not valid YAML: {problem}{column}{hint}"


class Located:
    """A parsed YAML document and the line (1-based) of each field path, e.g. ``steps[1].wait``."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines: dict[str, int] = {}
        self.errors: list[ScenarioError] = []
        """Mistakes found so far (``attempt``): a file reports all of them at once."""
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise ScenarioError(source, line, "(document)", _yaml_problem(exc)) from None
        if node is None:
            raise ScenarioError(source, 1, "(document)", "the file is empty")
        self.value = self._convert(node, "")

    def _convert(self, node: yaml.Node, path: str) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                result[key] = self._convert(value_node, child)
                self.lines[child] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._convert(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        return _scalar(node)

    def attempt(self, parse: Callable[[], T], fallback: T) -> T:
        """``parse()``, or ``fallback`` with its error kept in ``errors``."""
        try:
            return parse()
        except ScenarioError as error:
            self.errors.extend(getattr(error, "errors", None) or [error])
            return fallback

    def fail(self, path: str, problem: str) -> ScenarioError:
        """An error at ``path``, on the line of the nearest field that exists."""
        probe = path
        while probe and probe not in self.lines:
            probe = probe.rsplit(".", 1)[0] if "." in probe else ""
        return ScenarioError(self.source, self.lines.get(probe, 1), path or "(document)", problem)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
