"""The text of a condition (``when:``) to the engine's values (``streams.engine.conditions``):
a tokenizer and a recursive-descent parser; a mistake is a ``ValueError`` naming what was
expected and where, which the loader reports with the file, line and field."""

from __future__ import annotations

import re

from streams.engine.conditions import (
    COMPARISONS,
    ENGAGEMENTS,
    PURCHASES,
    All,
    Any_,
    Attribute,
    Expr,
    Not,
    OrderValue,
    Purchased,
    Step,
)
from streams.scenarios.durations import parse_duration

_TOKEN = re.compile(
    r"\s*(?:(?P<op>>=|<=|==|!=|>|<|=)|(?P<punct>[():])|(?P<string>\"[^\"]*\"|'[^']*')"
    r"|(?P<word>[A-Za-z0-9_.\-]+))"
)
GRAMMAR = (
    "opened(step), clicked(step), sent(step), purchased(any|recommended|sku:X|category:Y)"
    " [within 30d], order_value >= 5000, profile.NAME == value; and, or, not, ( )"
)


def parse_condition(text: str) -> Expr:
    """The condition ``text`` says; ``ValueError`` with the position of a mistake."""
    parser = _Parser(_tokens(text), text)
    expr = parser.expression()
    if parser.peek() is not None:
        raise parser.error("and, or, or the end")
    return expr


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, column) of each token."""
    tokens, at = [], 0
    while at < len(text):
        if not text[at:].strip():
            break
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise ValueError(f"unexpected {text[at:].strip()[:10]!r} at column {at + 1}")
        kind = match.lastgroup or ""
        start = match.start(kind)
        tokens.append((kind, match.group(kind), start + 1))
        at = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens, self.at, self.text = tokens, 0, text

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise self.error(repr(expected) if expected else "more")
        self.at += 1
        return token

    def error(self, expected: str) -> ValueError:
        if self.at < len(self.tokens):
            _, text, column = self.tokens[self.at]
            found = f"{text!r} at column {column}"
        else:
            found = "the end"
        return ValueError(f"expected {expected}, found {found}; a condition is made of {GRAMMAR}")

    def expression(self) -> Expr:
        items = [self.conjunction()]
        while self.peek() == "or":
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Any_(tuple(items))

    def conjunction(self) -> Expr:
        items = [self.unary()]
        while self.peek() == "and":
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else All(tuple(items))

    def unary(self) -> Expr:
        if self.peek() == "not":
            self.take()
            return Not(self.unary())
        if self.peek() == "(":
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        return self.atom()

    def atom(self) -> Expr:
        word = self.peek()
        if word in ENGAGEMENTS:
            self.take()
            self.take("(")
            step = self.name("a step id")
            self.take(")")
            return Step(word, step)
        if word == "purchased":
            return self.purchased()
        if word == "order_value":
            self.take()
            op = self.operator(tuple(COMPARISONS))
            amount = self.take()
            if not amount.isdigit():
                self.at -= 1
                raise self.error("a whole amount in minor units (5000 for 50.00)")
            return OrderValue(op, int(amount))
        if word is not None and word.startswith("profile.") and len(word) > len("profile."):
            self.take()
            op = self.operator(("==", "!="))
            value = self.take().strip("\"'")
            return Attribute(word.removeprefix("profile."), op, value)
        raise self.error("opened(...), clicked(...), sent(...), purchased(...), order_value "
                         "or profile.NAME")  # fmt: skip

    def purchased(self) -> Expr:
        self.take()
        self.take("(")
        what = self.name("any, recommended, sku:X or category:Y")
        if what not in PURCHASES:
            self.at -= 1
            raise self.error("any, recommended, sku:X or category:Y")
        value = ""
        if what in ("sku", "category"):
            self.take(":")
            value = self.name(f"a {what}")
        self.take(")")
        within = None
        if self.peek() == "within":
            self.take()
            duration = self.take()
            within = parse_duration(duration)
            if within is None:
                self.at -= 1
                raise self.error("a duration like 30d after within")
        return Purchased(what, value, within)

    def operator(self, allowed: tuple[str, ...]) -> str:
        token = self.peek()
        if token not in allowed:
            raise self.error(" or ".join(allowed))
        return self.take()

    def name(self, what: str) -> str:
        if self.at >= len(self.tokens) or self.tokens[self.at][0] != "word":
            raise self.error(what)
        return self.take()
