"""YAML read with the line of every field, so errors can say where they are."""

from __future__ import annotations

from typing import Any

import yaml

from streams.scenarios.exceptions import ScenarioError


class Located:
    """A parsed YAML document and the line (1-based) of each field path, e.g. ``steps[1].wait``."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines: dict[str, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise ScenarioError(source, line, "(document)", f"not valid YAML: {exc}") from None
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
