"""The Jinja2 environment for ``chart_templates/``.

Jinja uses ``[[ ]]``, ``[% %]`` and ``[# #]`` here so that Helm's own ``{{ }}`` reach the
chart untouched; StrictUndefined turns a missing answer into an error instead of an empty
string.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2

#: Template file suffix; the rendered file drops it.
SUFFIX = ".j2"
#: A leading "dot-" in a template file name becomes "." (hidden files are awkward in package data).
DOT_PREFIX = "dot-"


def templates_dir() -> Path:
    """Where the chart templates are: inside the installed package, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "chart_templates", here.parent / "chart_templates"):
        if (candidate / ("Chart.yaml" + SUFFIX)).is_file():
            return candidate
    raise FileNotFoundError(f"chart_templates not found next to {here}; reinstall chartgen")


@functools.lru_cache(maxsize=4)
def environment(root: str | None = None) -> jinja2.Environment:
    """A cached Jinja2 environment over the chart templates."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(root or str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        keep_trailing_newline=True,
        autoescape=False,
    )


def output_name(template: str) -> str:
    """Chart-relative output path of a template path (``dot-helmignore.j2`` -> ``.helmignore``)."""
    parts = template[: -len(SUFFIX)].split("/")
    parts = ["." + p[len(DOT_PREFIX):] if p.startswith(DOT_PREFIX) else p for p in parts]
    return "/".join(parts)


def iter_templates() -> Iterator[str]:
    """Template paths relative to the templates dir, sorted."""
    root = templates_dir()
    yield from sorted(p.relative_to(root).as_posix() for p in root.rglob("*" + SUFFIX) if p.is_file())


def render_tree(context: Mapping[str, Any]) -> dict[str, str]:
    """Render every chart template: chart-relative path -> content."""
    env = environment()
    return {output_name(t): env.get_template(t).render(**context) for t in iter_templates()}
