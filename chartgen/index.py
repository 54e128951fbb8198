"""Helm repository index files: :class:`IndexFile` of :class:`ChartVersion` entries.

Loading is the hot path (public indexes hold tens of thousands of entries), and so is
writing. Measured on a 20,000-entry index (benchmarks/index_merge.py): PyYAML's C loader
takes seconds, yaml-rs (a compiled parser) a few hundred milliseconds, the stdlib JSON
parser about the same. So:

- YAML is parsed with yaml-rs (duplicate keys are errors, alias expansion is bounded,
  timestamps stay strings); PyYAML is the fallback when yaml-rs is not installed.
- JSON (legal in index.yaml: helm reads it, ``helm repo index --json`` writes it) is parsed
  with the stdlib, with a duplicate-key check.
- A YAML index is written back by *splicing*: only the blocks of the charts that changed are
  re-emitted into the original text; every other byte stays as it was (so ``created`` of
  existing entries is kept by construction, and diffs are minimal). When the text does not
  have the block layout helm and chartgen write, the whole document is emitted instead.

Reading is defensive: an empty file, a missing apiVersion, ``entries: null``, null or
malformed entries, duplicate keys and alias bombs are clear errors, and an index that
failed to load is never written.
"""

from __future__ import annotations

import datetime as _dt
import gc
import json
import os
import re
import select
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import semver
import yaml

from chartgen.archive import ChartArchive, atomic_write_bytes
from chartgen.chart import YAML_LOADER
from chartgen.errors import ChartgenError

API_VERSION = "v1"
INDEX_FILE = "index.yaml"

#: Fields of an index entry that Helm knows (chart.Metadata plus the index's own). Helm loads
#: YAML indexes with UnmarshalStrict, so any other key would make helm reject the whole file.
METADATA_FIELDS = ("name", "home", "sources", "version", "description", "keywords", "maintainers", "icon",
                   "apiVersion", "condition", "tags", "appVersion", "deprecated", "annotations", "kubeVersion",
                   "dependencies", "type")
ENTRY_FIELDS = frozenset(METADATA_FIELDS) | {"urls", "created", "removed", "digest", "checksum", "engine",
                                             "tillerVersion", "url"}
TOP_FIELDS = frozenset({"apiVersion", "generated", "entries", "publicKeys", "annotations", "serverInfo"})

# Alias expansion bounds for YAML: an index has no business using aliases at scale.
_ALIAS_EVENTS = 10_000


class IndexFileError(ChartgenError):
    """An index file is unreadable or malformed."""


def now_rfc3339() -> str:
    """The current UTC time as Helm writes it (RFC 3339 with fractional seconds)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class ChartVersion:
    """One entry of an index: a chart version with its urls, digest and created time."""

    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def version(self) -> str:
        return str(self.data["version"])

    @property
    def digest(self) -> str:
        return str(self.data.get("digest") or "")

    @property
    def created(self) -> str:
        return str(self.data.get("created") or "")

    @property
    def urls(self) -> list[str]:
        return list(self.data.get("urls") or [])

    @classmethod
    def from_archive(cls, archive: ChartArchive, url: str, created: str | None = None) -> ChartVersion:
        """An entry for ``archive`` served at ``url``: Chart.yaml's known fields plus urls, digest, created."""
        data = {k: archive.metadata.raw[k] for k in METADATA_FIELDS if archive.metadata.raw.get(k) is not None}
        data["name"], data["version"] = archive.name, archive.version
        if "appVersion" in data:
            data["appVersion"] = str(data["appVersion"])
        data["urls"] = [url]
        data["digest"] = archive.digest
        data["created"] = created or now_rfc3339()
        return cls(data)


def join_url(base: str | None, *parts: str) -> str:
    """``base/parts`` (or the bare relative path when there is no base), as Helm's URLJoin."""
    rel = "/".join(p.strip("/") for p in parts if p and p.strip("/"))
    if not base:
        return rel
    return base.rstrip("/") + "/" + rel


_VERSION_CACHE: dict[str, Any] = {}


def _version_key(version: str) -> tuple[int, Any]:
    parsed = _VERSION_CACHE.get(version)
    if parsed is None:
        try:
            parsed = semver.Version.parse(version.removeprefix("v"))
        except (ValueError, TypeError):
            parsed = False
        _VERSION_CACHE[version] = parsed
    # Versions that do not parse sort last (Helm: "failed parse pushes to the back").
    return (1, parsed) if parsed is not False else (0, version)


def sort_versions(entries: list[ChartVersion]) -> list[ChartVersion]:
    """Newest first, as in Helm's canonical index."""
    return sorted(entries, key=lambda e: _version_key(e.version), reverse=True)


class ChartEntries(MutableMapping[str, list[ChartVersion]]):
    """Chart name -> versions (newest first). Charts loaded from a large YAML index may stay
    unparsed, as validated text blocks, until something reads them: a release that adds one
    version to a 20,000-entry index only ever builds objects for the charts it touches."""

    def __init__(self, parsed: dict[str, list[ChartVersion]] | None = None,
                 lazy: dict[str, tuple[str, list[str]]] | None = None) -> None:
        self._parsed: dict[str, list[ChartVersion]] = parsed if parsed is not None else {}
        #: name -> (the chart's YAML block, its version strings)
        self._lazy: dict[str, tuple[str, list[str]]] = lazy if lazy is not None else {}

    def __getitem__(self, name: str) -> list[ChartVersion]:
        versions = self._parsed.get(name)
        if versions is not None:
            return versions
        if name not in self._lazy:
            raise KeyError(name)
        block, _ = self._lazy.pop(name)
        doc = _parse_block(block)
        versions = [ChartVersion(item) for item in doc[name]]
        self._parsed[name] = versions
        return versions

    def __setitem__(self, name: str, versions: list[ChartVersion]) -> None:
        self._lazy.pop(name, None)
        self._parsed[name] = versions

    def __delitem__(self, name: str) -> None:
        if self._parsed.pop(name, None) is None and self._lazy.pop(name, None) is None:
            raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._parsed or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter([*self._parsed, *self._lazy])

    def __len__(self) -> int:
        return len(self._parsed) + len(self._lazy)

    def versions(self, name: str) -> list[str]:
        """Version strings of ``name`` (no parsing needed), [] for an unknown chart."""
        if name in self._lazy:
            return list(self._lazy[name][1])
        return [e.version for e in self._parsed.get(name, ())]

    def count(self) -> int:
        """Number of chart versions."""
        return sum(len(v) for v in self._parsed.values()) + sum(len(v) for _, v in self._lazy.values())


@dataclass
class IndexFile:
    """A repository index. ``entries`` maps chart names to versions, newest first."""

    entries: ChartEntries = field(default_factory=ChartEntries)
    api_version: str = API_VERSION
    generated: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: "yaml" or "json": the format it was read in (and is written in by default).
    format: str = "yaml"
    #: Original text, for splicing; None for a new index.
    source_text: str | None = field(default=None, repr=False)
    #: Chart names whose version lists changed since loading.
    changed: set[str] = field(default_factory=set)
    #: Chart names in the order the source text lists them (what splicing checks the text against).
    loaded_names: list[str] = field(default_factory=list, repr=False)

    # --- reading ---

    @classmethod
    def load(cls, path: str | Path, *, yaml_backend: str = "auto") -> IndexFile:
        """Load and validate an index file; raise :class:`IndexFileError` with a clear message."""
        p = Path(path)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            raise IndexFileError(f"{p}: no such index file") from None
        except OSError as exc:
            raise IndexFileError(f"{p}: cannot read: {exc.strerror}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise IndexFileError(f"{p}: not UTF-8 text; is this really an index.yaml?") from None
        return cls.loads(text, str(p), yaml_backend=yaml_backend)

    @classmethod
    def loads(cls, text: str, source: str = INDEX_FILE, *, yaml_backend: str = "auto") -> IndexFile:
        """Parse index text (YAML or JSON)."""
        stripped = text.lstrip()
        if not stripped:
            raise IndexFileError(f"{source}: empty index file; a repository index needs at least "
                                 "'apiVersion: v1' and 'entries: {}'")
        doc: Any = _NOT_JSON
        # The parse creates hundreds of thousands of containers and no cycles: the cyclic GC
        # would only rescan them over and over (about 10% of the load time).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            if stripped.startswith("{"):
                # As helm: JSON when the text is valid JSON, YAML (a flow mapping, say) otherwise.
                doc = _load_json(text, source)
            if doc is _NOT_JSON:
                fmt = "yaml"
                lazy = _load_yaml_parallel(text, source) if yaml_backend in ("auto", "yaml-rs") else None
                if lazy is not None:
                    index = lazy
                    index.source_text = text
                    return index
                doc = _load_yaml(text, source, yaml_backend)
            else:
                fmt = "json"
        finally:
            if gc_was_enabled:
                gc.enable()
        index = cls._from_document(doc, source)
        index.format = fmt
        index.source_text = text
        index.loaded_names = list(index.entries)
        return index

    @classmethod
    def _from_document(cls, doc: Any, source: str) -> IndexFile:
        if isinstance(doc, _Documents):
            raise IndexFileError(f"{source}: several YAML documents; an index is one document")
        if not isinstance(doc, dict):
            raise IndexFileError(f"{source}: not a mapping; is this a Helm repository index?")
        api = doc.get("apiVersion")
        if not api:
            raise IndexFileError(f"{source}: no apiVersion; a Helm repository index starts with 'apiVersion: v1'")
        if "entries" not in doc:
            raise IndexFileError(f"{source}: no 'entries' mapping; is this a Helm repository index?")
        raw_entries = doc["entries"]
        if raw_entries is None:
            raise IndexFileError(f"{source}: 'entries' is null; an empty index has 'entries: {{}}'")
        if not isinstance(raw_entries, dict):
            raise IndexFileError(f"{source}: 'entries' must be a mapping of chart names to version lists")
        entries: dict[str, list[ChartVersion]] = {}
        for name, versions in raw_entries.items():
            # Fast path: one C-level pass per chart; the slow loop below only runs to name the problem.
            if _valid_versions(name, versions):
                entries[str(name)] = [ChartVersion(item) for item in versions]
                continue
            _explain_bad_versions(source, name, versions)
        extra = {k: v for k, v in doc.items() if k not in ("apiVersion", "generated", "entries")}
        return cls(entries=ChartEntries(entries), api_version=str(api), generated=str(doc.get("generated") or ""),
                   extra=extra)

    # --- queries and changes ---

    def get(self, name: str, version: str) -> ChartVersion | None:
        for entry in self.entries.get(name, ()):
            if entry.version == version:
                return entry
        return None

    def __len__(self) -> int:
        return self.entries.count()

    def versions(self, name: str) -> list[str]:
        """The version strings of chart ``name`` ([] when it is not in the index)."""
        return self.entries.versions(name)

    def put(self, entry: ChartVersion) -> None:
        """Add ``entry``, replacing an entry of the same name and version."""
        versions = [e for e in self.entries.get(entry.name, []) if e.version != entry.version]
        versions.append(entry)
        self.entries[entry.name] = sort_versions(versions)
        self.changed.add(entry.name)

    def remove(self, name: str, version: str) -> bool:
        versions = self.entries.get(name, [])
        kept = [e for e in versions if e.version != version]
        if len(kept) == len(versions):
            return False
        if kept:
            self.entries[name] = kept
        else:
            del self.entries[name]
        self.changed.add(name)
        return True

    # --- writing ---

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"apiVersion": self.api_version}
        doc["entries"] = {name: [e.data for e in versions] for name, versions in sorted(self.entries.items())}
        doc["generated"] = self.generated or now_rfc3339()
        doc.update(self.extra)
        return doc

    def dumps(self, fmt: str | None = None) -> str:
        """The index text: JSON, or YAML (spliced into the original text where possible)."""
        fmt = fmt or self.format
        self.generated = now_rfc3339()
        if fmt == "json":
            return json.dumps(self.document(), ensure_ascii=False, separators=(",", ":")) + "\n"
        if self.format == "yaml" and self.source_text is not None:
            spliced = _splice(self.source_text, self)
            if spliced is not None:
                return spliced
        return emit_yaml(self.document())

    def write(self, path: str | Path, fmt: str | None = None) -> None:
        """Write atomically (temporary file + rename)."""
        atomic_write_bytes(Path(path), self.dumps(fmt).encode("utf-8"))


def _valid_versions(name: Any, versions: Any) -> bool:
    """Whether ``versions`` is a list of mappings named ``name`` with non-empty string versions."""
    return type(versions) is list and all(
        type(item) is dict and type(item.get("version")) is str and item["version"] and item.get("name") == name
        for item in versions)


def _explain_bad_versions(source: str, name: Any, versions: Any) -> None:
    if not isinstance(versions, list):
        raise IndexFileError(f"{source}: entries.{name} must be a list of chart versions, not "
                             f"{'null' if versions is None else type(versions).__name__}")
    for i, item in enumerate(versions):
        if item is None:
            raise IndexFileError(f"{source}: entries.{name}[{i}] is null; remove the empty entry")
        if not isinstance(item, dict):
            raise IndexFileError(f"{source}: entries.{name}[{i}] must be a mapping")
        version = item.get("version")
        if not isinstance(version, str) or not version:
            raise IndexFileError(f"{source}: entries.{name}[{i}] has no version string (got {version!r}); "
                                 "quote versions such as '1.0'")
        if item.get("name") != name:
            raise IndexFileError(f"{source}: entries.{name}[{i}] is named {item.get('name')!r}, not {name!r}")
    raise IndexFileError(f"{source}: entries.{name} is malformed")


# --- parsers ------------------------------------------------------------------------------

_NOT_JSON = object()

def _load_json(text: str, source: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)  # built in C; a Python loop per object costs a third of the parse
        if len(out) != len(pairs):
            seen: set[str] = set()
            duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
            raise IndexFileError(f"{source}: duplicate key {duplicate!r}; the index is ambiguous, fix it by hand")
        return out

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError:
        return _NOT_JSON


def _load_yaml(text: str, source: str, backend: str) -> Any:
    if backend in ("auto", "yaml-rs"):
        try:
            import yaml_rs
        except ImportError:
            if backend == "yaml-rs":
                raise
        else:
            try:
                doc = yaml_rs.loads(text, parse_datetime=False, alias_limits=_yaml_rs_limits())
                # yaml-rs returns a list for several documents, as for a top-level sequence.
                if isinstance(doc, list) and _DOCUMENT_START.search(text):
                    return _Documents(doc)
                return doc
            except yaml_rs.YAMLDecodeError as exc:
                message = " ".join(str(exc).split())
                if "alias" in message:
                    raise IndexFileError(f"{source}: too many alias expansions ({message}); refusing a possible "
                                         "alias bomb") from None
                what = "JSON or YAML" if text.lstrip().startswith("{") else "YAML"
                raise IndexFileError(f"{source}: not valid {what}: {message}") from None
    return _load_yaml_pyyaml(text, source)


class _StrictLoader(YAML_LOADER):  # type: ignore[misc,valid-type]
    """PyYAML safe loader that refuses duplicate keys and bounds alias use; timestamps stay strings."""


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in out:
            raise IndexFileError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


class _Documents(list):  # type: ignore[type-arg]
    """Several YAML documents (as opposed to one document that is a sequence)."""


_DOCUMENT_START = re.compile(r"^---", re.M)
_MAX_ALIASES = 16


def _load_yaml_pyyaml(text: str, source: str) -> Any:
    # PyYAML shares aliased nodes instead of copying them, but anything that walks the result
    # (merge, dump) would expand them. Helm never writes aliases: allow a handful. The regex is
    # a cheap over-estimate ('*' in text); only then are the real alias events counted.
    if len(re.findall(r"(?<![\w*])\*[A-Za-z0-9_-]+", text)) > _MAX_ALIASES:
        try:
            aliases = sum(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=_StrictLoader))
        except yaml.YAMLError as exc:
            raise IndexFileError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
        if aliases > _MAX_ALIASES:
            raise IndexFileError(f"{source}: {aliases} YAML aliases; refusing a possible alias bomb")
    try:
        docs = list(yaml.load_all(text, Loader=_StrictLoader))
    except IndexFileError as exc:
        raise IndexFileError(f"{source}: {exc.message}; the index is ambiguous, fix it by hand") from None
    except yaml.YAMLError as exc:
        what = "JSON or YAML" if text.lstrip().startswith("{") else "YAML"
        raise IndexFileError(f"{source}: not valid {what}: {' '.join(str(exc).split())}") from None
    if len(docs) != 1:
        return _Documents(docs)
    return docs[0]


# --- YAML emitter -------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_./+\-][A-Za-z0-9 _./:@+=~\-]*")
_RESOLVER = yaml.resolver.Resolver()
# What a YAML 1.2 core-schema reader (yaml-rs, most modern parsers) would not read as a string;
# PyYAML's resolver above covers YAML 1.1 readers (helm's go-yaml). Plain only if both agree.
_YAML12_NON_STRING = re.compile(
    r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|true|True|TRUE|false|False|FALSE|null|Null|NULL|~")
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_SCALARS: dict[str, str] = {}


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        out = _SCALARS.get(value)
        if out is None:
            # Plain only when a YAML 1.1 reader (helm's) would read the same string back.
            if (_PLAIN.fullmatch(value) and not value.endswith((" ", ":")) and ": " not in value
                    and " #" not in value and not value.startswith(("- ", "-\t")) and value != "-"
                    and not _YAML12_NON_STRING.fullmatch(value)
                    # go-yaml (helm) and yaml-rs drop '_' in numbers: '_0' and '1_000' are numbers to them.
                    and not ("_" in value and _YAML12_NON_STRING.fullmatch(value.replace("_", "")))
                    and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == "tag:yaml.org,2002:str"):
                out = value
            else:
                # JSON escapes are YAML double-quoted escapes; YAML also refuses DEL and C1 controls
                # raw and reads NEL, LS and PS as line breaks, so escape those too.
                out = _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))
            if len(_SCALARS) < 100_000:
                _SCALARS[value] = out
        return out
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    raise IndexFileError(f"cannot write a value of type {type(value).__name__} into an index")


def _emit_pair(out: list[str], key: str, value: Any, indent: str) -> None:
    if isinstance(value, dict):
        if not value:
            out.append(f"{indent}{key}: {{}}")
            return
        out.append(f"{indent}{key}:")
        for k in sorted(value, key=str):
            _emit_pair(out, _scalar(str(k)), value[k], indent + "  ")
    elif isinstance(value, list):
        if not value:
            out.append(f"{indent}{key}: []")
            return
        out.append(f"{indent}{key}:")
        for item in value:
            _emit_item(out, item, indent)
    else:
        out.append(f"{indent}{key}: {_scalar(value)}")


def _emit_item(out: list[str], item: Any, indent: str) -> None:
    """A sequence item at ``indent`` (helm style: '- ' at the parent key's indentation)."""
    if isinstance(item, dict) and item:
        start = len(out)
        for k in sorted(item, key=str):
            _emit_pair(out, _scalar(str(k)), item[k], indent + "  ")
        out[start] = f"{indent}- {out[start][len(indent) + 2:]}"
    elif isinstance(item, list) and item:
        # Nested sequences do not occur in indexes; flow style keeps them correct anyway.
        out.append(f"{indent}- {json.dumps(item, ensure_ascii=False)}")
    elif isinstance(item, (dict, list)):
        out.append(f"{indent}- {'{}' if isinstance(item, dict) else '[]'}")
    else:
        out.append(f"{indent}- {_scalar(item)}")


def _emit_chart(name: str, versions: Iterable[ChartVersion]) -> list[str]:
    out: list[str] = []
    _emit_pair(out, _scalar(name), [e.data for e in versions], "  ")
    return out


def emit_yaml(doc: dict[str, Any]) -> str:
    """YAML as helm writes an index: sorted keys, block style, '- ' at the parent's indent."""
    out: list[str] = []
    for key in ("apiVersion", "entries", "generated"):
        if key == "entries":
            entries = doc["entries"]
            if not entries:
                out.append("entries: {}")
                continue
            out.append("entries:")
            for name in sorted(entries):
                _emit_pair(out, _scalar(name), entries[name], "  ")
        else:
            _emit_pair(out, key, doc[key], "")
    for key in sorted(k for k in doc if k not in ("apiVersion", "entries", "generated")):
        _emit_pair(out, _scalar(key), doc[key], "")
    return "\n".join(out) + "\n"


# --- layout of a helm-style YAML index -----------------------------------------------------

# In helm's layout, the only lines indented by exactly two spaces in `entries` are chart names.
# Every pattern starts with a literal newline: Python's regex engine then scans with a fast
# substring search (a '^' in MULTILINE mode is about six times slower on a 10 MB index).
_COL0 = re.compile(r"\n[^ \t\n-]")
_TWO_SPACE = re.compile(r"\n  ([^ \t\n-][^\n]*)")
_CHART_HEADER = re.compile(r"([A-Za-z0-9][A-Za-z0-9_.-]*):[ \t]*")


def _line_starts(text: str, key: str) -> list[int]:
    """Offsets of the column-0 lines starting with ``key:``."""
    found = [0] if text.startswith(key + ":") else []
    needle, i = "\n" + key + ":", text.find("\n" + key + ":")
    while i >= 0:
        found.append(i + 1)
        i = text.find(needle, i + 1)
    return found


@dataclass
class _Layout:
    """Where things are in a helm-style index text (offsets into it)."""

    entries_at: int
    start: int
    end: int
    generated_at: int
    headers: list[tuple[str, int]]

    def block(self, j: int) -> tuple[int, int]:
        stop = self.headers[j + 1][1] if j + 1 < len(self.headers) else self.end
        return self.headers[j][1], stop


def _layout(text: str) -> _Layout | None:
    """The block layout helm and chartgen write, or None for anything else (comments at chart
    level, flow style, CRLF, quoted chart names...): callers then take the general path."""
    if "\r" in text:
        return None
    entries_at = _line_starts(text, "entries")
    generated_at = _line_starts(text, "generated")
    if len(entries_at) != 1 or len(generated_at) != 1:
        return None
    line_end = text.find("\n", entries_at[0])
    if line_end < 0 or text[entries_at[0]:line_end].rstrip() != "entries:":
        return None
    start = line_end + 1
    col0 = _COL0.search(text, start - 1)
    end = col0.start() + 1 if col0 else len(text)
    if start <= generated_at[0] < end:
        return None
    headers: list[tuple[str, int]] = []
    for match in _TWO_SPACE.finditer(text, start - 1, end):
        header = _CHART_HEADER.fullmatch(match.group(1))
        if header is None:
            return None
        headers.append((header.group(1), match.start() + 1))
    if headers and headers[0][1] != start:
        return None
    return _Layout(entries_at[0], start, end, generated_at[0], headers)


# --- parallel loading of big YAML indexes ---------------------------------------------------

#: Below this size a plain parse is as fast as forking.
PARALLEL_MIN_BYTES = 1 << 20
#: How long the parent waits for the worker before falling back to a plain parse.
PARALLEL_TIMEOUT = 120.0


def _yaml_rs_limits() -> Any:
    import yaml_rs

    return yaml_rs.AliasLimits(max_total_replayed_events=_ALIAS_EVENTS, max_replay_stack_depth=16,
                               max_alias_expansions_per_anchor=1000)


def _parse_block(block: str) -> Any:
    import yaml_rs

    return yaml_rs.loads(block, parse_datetime=False, alias_limits=_yaml_rs_limits())


def _validated_versions(text: str, names: list[str]) -> dict[str, list[ChartVersion]] | None:
    """Parse a run of chart blocks; None unless it is exactly ``names``, each a valid version list."""
    try:
        doc = _parse_block(text)
    except Exception:
        return None
    if type(doc) is not dict or list(doc) != names:
        return None
    out: dict[str, list[ChartVersion]] = {}
    for name, versions in doc.items():
        if not _valid_versions(name, versions):
            return None
        out[name] = [ChartVersion(item) for item in versions]
    return out


def _load_yaml_parallel(text: str, source: str) -> IndexFile | None:
    """Load a big helm-style YAML index on two cores, or None to take the general path.

    The chart blocks are split in two halves. A forked worker parses and validates the first
    half and sends back only its version lists; the parent parses the second half meanwhile.
    The first half's charts stay unparsed text (:class:`ChartEntries`) until read. Anything
    unusual (another layout, a parse or validation error, no fork, threads running) returns
    None, and the general path parses the whole text and reports the error exactly.
    """
    if len(text) < PARALLEL_MIN_BYTES or not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    try:
        import yaml_rs  # noqa: F401 - the worker needs it too
    except ImportError:
        return None
    layout = _layout(text)
    if layout is None or len(layout.headers) < 2:
        return None
    names = [name for name, _ in layout.headers]
    if len(set(names)) != len(names):
        return None
    # Everything outside `entries` (apiVersion, generated, other keys) as one small document.
    try:
        top = _parse_block(text[: layout.entries_at] + "entries: {}\n" + text[layout.end:])
    except Exception:
        return None
    if type(top) is not dict:
        return None
    # Split by bytes, at a chart boundary.
    half_at = layout.start + (layout.end - layout.start) // 2
    split = next((j for j, (_, offset) in enumerate(layout.headers) if offset >= half_at), len(layout.headers) - 1)
    split = max(1, split)
    first_names, second_names = names[:split], names[split:]
    first_text = text[layout.start: layout.headers[split][1]]
    second_text = text[layout.headers[split][1]: layout.end]

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: parse, validate, report version lists, exit without cleanup
        try:
            os.close(read_fd)
            parsed = _validated_versions(first_text, first_names)
            payload = b"FAIL" if parsed is None else json.dumps(
                {name: [e.version for e in versions] for name, versions in parsed.items()}).encode()
            view = memoryview(payload)
            while view:
                view = view[os.write(write_fd, view):]
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        second = _validated_versions(second_text, second_names)
        payload = _read_all(read_fd, PARALLEL_TIMEOUT)
    finally:
        os.close(read_fd)
        _reap(pid)
    if second is None or payload is None or payload == b"FAIL":
        return None
    first_versions = json.loads(payload)
    lazy = {}
    for j, name in enumerate(first_names):
        begin, stop = layout.block(j)
        lazy[name] = (text[begin:stop], first_versions[name])
    doc = dict(top)
    doc["entries"] = {}
    index = IndexFile._from_document(doc, source)
    index.entries = ChartEntries(parsed=second, lazy=lazy)
    index.loaded_names = names
    index.format = "yaml"
    return index


def _read_all(fd: int, timeout: float) -> bytes | None:
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> None:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    except ChildProcessError:
        pass


# --- splicing -----------------------------------------------------------------------------

def _splice(text: str, index: IndexFile) -> str | None:
    """Re-emit only the changed charts' blocks into ``text``; None when the layout is not helm's.

    The text is checked against what was parsed (the two-space-indented lines of ``entries``
    must be exactly the chart names, in order), then edited in one pass.
    """
    layout = _layout(text)
    if layout is None or [name for name, _ in layout.headers] != index.loaded_names:
        return None
    edits: list[tuple[int, int, str]] = []  # (from, to, replacement) on the original text
    known = set()
    for j, (name, _offset) in enumerate(layout.headers):
        known.add(name)
        if name in index.changed:
            begin, stop = layout.block(j)
            block = "\n".join(_emit_chart(name, index.entries[name])) + "\n" if name in index.entries else ""
            edits.append((begin, stop, block))
    for name in sorted(n for n in index.changed if n not in known and n in index.entries):
        at = next((offset for existing, offset in layout.headers if existing > name), layout.end)
        edits.append((at, at, "\n".join(_emit_chart(name, index.entries[name])) + "\n"))
    if not index.entries:
        edits = [(layout.entries_at, layout.end, "entries: {}\n")]
    gen_end = text.find("\n", layout.generated_at)
    gen_end = len(text) if gen_end < 0 else gen_end
    edits.append((layout.generated_at, gen_end, f"generated: {_scalar(index.generated)}"))
    edits.sort(key=lambda e: (e[0], e[1]))
    pieces, cursor = [], 0
    for begin, stop, replacement in edits:
        pieces.append(text[cursor:begin])
        pieces.append(replacement)
        cursor = stop
    pieces.append(text[cursor:])
    out = "".join(pieces)
    return out if out.endswith("\n") else out + "\n"
