""".helmignore rules, evaluated exactly as Helm's pkg/ignore does.

Patterns use Go's ``filepath.Match`` syntax (``*`` and ``?`` never match '/', ``[...]`` classes
with ``^`` negation, ``\\`` escapes); ``**`` is refused as Helm refuses it. A pattern without
'/' matches the base name, one with '/' the whole chart-relative path, a leading '/' anchors
it, a trailing '/' matches directories only. Helm's quirk is kept: a negated rule ``!p`` that
does *not* match a path ignores it, so ``!p`` means "ignore everything but p" from that rule on.
The default rule ``templates/.?*`` (hidden files in templates/) is always added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from chartgen.errors import ChartError

HELMIGNORE = ".helmignore"
DEFAULT_RULES = ("templates/.?*",)


def _translate(pattern: str) -> re.Pattern[str]:
    """Compile a Go filepath.Match pattern to a regex; raise ValueError on a malformed one."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            if i >= n:
                raise ValueError("trailing backslash")
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j = i + 1
            negate = j < n and pattern[j] == "^"
            if negate:
                j += 1
            items, first = [], True
            while j < n and (pattern[j] != "]" or first):
                first = False
                ch = pattern[j]
                if ch == "\\":
                    j += 1
                    if j >= n:
                        raise ValueError("bad escape in class")
                    ch = pattern[j]
                if j + 2 < n and pattern[j + 1] == "-" and pattern[j + 2] != "]":
                    hi = pattern[j + 2]
                    if hi == "\\":
                        j += 1
                        hi = pattern[j + 2]
                    items.append(f"{re.escape(ch)}-{re.escape(hi)}")
                    j += 3
                else:
                    items.append(re.escape(ch))
                    j += 1
            if j >= n or not items:
                raise ValueError("unterminated character class")
            # Unlike '*' and '?', Go's character classes (negated ones too) may match '/'.
            out.append(f"[{'^' if negate else ''}{''.join(items)}]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


@dataclass(frozen=True)
class _Rule:
    raw: str
    regex: re.Pattern[str]
    negate: bool
    must_dir: bool
    base_only: bool

    def matches(self, path: str) -> bool:
        target = path.rsplit("/", 1)[-1] if self.base_only else path
        return self.regex.match(target) is not None


class Rules:
    """A parsed .helmignore (plus Helm's default rule)."""

    def __init__(self, lines: list[str] | tuple[str, ...] = (), source: str = HELMIGNORE) -> None:
        self.rules: list[_Rule] = []
        for number, line in enumerate(lines, 1):
            self._add(line, f"{source}:{number}")
        for rule in DEFAULT_RULES:
            self._add(rule, "default rule")

    @classmethod
    def load(cls, chart_dir: Path) -> Rules:
        """Rules from ``chart_dir/.helmignore`` (if present) plus the default."""
        path = chart_dir / HELMIGNORE
        if not path.is_file():
            return cls()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ChartError(f"{path}: cannot read: {exc}") from None
        return cls(text.splitlines(), str(path))

    def _add(self, line: str, where: str) -> None:
        rule = line.strip()
        if not rule or rule.startswith("#"):
            return
        if "**" in rule:
            raise ChartError(f"{where}: double-star (**) syntax is not supported by Helm: {rule!r}")
        raw = rule
        negate = rule.startswith("!")
        if negate:
            rule = rule[1:]
        must_dir = rule.endswith("/")
        rule = rule.rstrip("/") if must_dir else rule
        anchored = rule.startswith("/")
        rule = rule.lstrip("/") if anchored else rule
        try:
            regex = _translate(rule)
        except ValueError as exc:
            raise ChartError(f"{where}: bad pattern {raw!r}: {exc}") from None
        self.rules.append(_Rule(raw, regex, negate, must_dir, base_only=not anchored and "/" not in rule))

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether the chart-relative ``path`` ('/'-separated) is ignored."""
        if path in ("", ".", "./"):
            return False
        for rule in self.rules:
            if rule.negate:
                if rule.must_dir and not is_dir:
                    return True
                if not rule.matches(path):
                    return True
                continue
            if rule.must_dir and not is_dir:
                continue
            if rule.matches(path):
                return True
        return False
