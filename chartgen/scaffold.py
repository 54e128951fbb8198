"""Generate charts (and, later, services) into place atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chartgen import chart as chartmod
from chartgen.errors import ChartgenError, InvalidValueError, TargetExistsError
from chartgen.render import render_tree
from chartgen.values import Answers, render_values_schema, render_values_table, render_values_yaml

DEFAULT_IMAGE_REGISTRY = "registry.example.com"


@dataclass
class CreateResult:
    """What ``create_chart`` did: the chart's name and path, the files written, any warnings."""

    name: str
    path: str
    files: list[str]
    warnings: list[str] = field(default_factory=list)
    replaced: bool = False

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def chart_files(answers: Answers) -> dict[str, str]:
    """Every file of the chart for ``answers``: chart-relative path -> content."""
    context = {
        "name": answers.name,
        "description": answers.summary,
        "version": answers.version,
        "app_version": answers.app_version,
        "port": answers.port,
        "image_repository": answers.image_repository,
        "values_table": render_values_table(answers),
    }
    files = render_tree(context)
    files[chartmod.VALUES_FILE] = render_values_yaml(answers)
    files[chartmod.SCHEMA_FILE] = render_values_schema(answers)
    # The README's table ends with a newline of its own; keep one blank line at most.
    files["README.md"] = files["README.md"].rstrip("\n") + "\n"
    return dict(sorted(files.items()))


def make_answers(name: str, *, image_repository: str | None = None, port: int = 8080, app_version: str = "0.1.0",
                 version: str = "0.1.0", description: str = "") -> tuple[Answers, list[str]]:
    """Validate the answers of ``chart create``; return them and any warnings."""
    warnings = chartmod.validate_chart_name(name)
    repository = f"{DEFAULT_IMAGE_REGISTRY}/{name}" if image_repository is None else image_repository
    chartmod.validate_image_repository(repository)
    chartmod.validate_port(port)
    chartmod.validate_app_version(app_version)
    chartmod.validate_version(version)
    if "\n" in description:
        raise InvalidValueError("description must be a single line")
    answers = Answers(name=name, image_repository=repository, port=port, app_version=app_version,
                      version=version, description=description)
    return answers, warnings


def create_chart(name: str, output_dir: str | os.PathLike[str] = "charts", *, image_repository: str | None = None,
                 port: int = 8080, app_version: str = "0.1.0", version: str = "0.1.0", description: str = "",
                 force: bool = False) -> CreateResult:
    """Create the chart ``name`` in ``output_dir/name``.

    Everything is validated before any path is built; the chart is rendered into a temporary
    directory next to the target and renamed into place, so a failure leaves nothing behind.
    An existing target is only replaced with ``force``.
    """
    answers, warnings = make_answers(name, image_repository=image_repository, port=port,
                                     app_version=app_version, version=version, description=description)
    files = chart_files(answers)
    target = Path(output_dir) / answers.name
    replaced = write_tree_atomically(target, files, force=force)
    return CreateResult(name=answers.name, path=str(target), files=list(files), warnings=warnings,
                        replaced=replaced)


def write_tree_atomically(target: Path, files: Mapping[str, str], *, force: bool) -> bool:
    """Write ``files`` as the directory ``target``, all or nothing. Returns True if it replaced one."""
    if target.exists() or target.is_symlink():
        if not force:
            raise TargetExistsError(f"{target} already exists: choose another name or --output-dir, "
                                    "or pass --force to replace it")
        if not target.is_dir() or target.is_symlink():
            raise TargetExistsError(f"{target} exists and is not a directory; remove it first")
    parent = target.parent
    created = _make_parents(parent)
    staging: Path | None = None
    done = False
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".chartgen-tmp", dir=parent))
        for rel, content in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        # mkdtemp makes 0700; a chart directory should have the usual permissions.
        _apply_umask_modes(staging)
        replaced = False
        if target.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".chartgen-old", dir=parent))
            os.rmdir(backup)
            os.rename(target, backup)
            try:
                os.rename(staging, target)
            except OSError:
                os.rename(backup, target)
                raise
            shutil.rmtree(backup, ignore_errors=True)
            replaced = True
        else:
            os.rename(staging, target)
        staging = None
        done = True
        return replaced
    except OSError as exc:
        raise ChartgenError(f"cannot write {target}: {exc.strerror or exc}; check that {parent} is a "
                            "writable directory") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not done:
            for directory in reversed(created):
                try:
                    directory.rmdir()
                except OSError:
                    break


def _make_parents(parent: Path) -> list[Path]:
    """mkdir -p ``parent``, returning the directories it created (outermost first)."""
    missing: list[Path] = []
    probe = parent
    while not probe.exists():
        if probe.is_symlink():
            break
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    missing.reverse()
    made: list[Path] = []
    try:
        for directory in missing:
            directory.mkdir()
            made.append(directory)
    except OSError as exc:
        for directory in reversed(made):
            directory.rmdir()
        raise ChartgenError(f"cannot create {parent}: {exc.strerror or exc}; check the path and its "
                            "permissions") from None
    if not parent.is_dir():
        raise ChartgenError(f"{parent} is not a directory: choose another --output-dir")
    return made


def _apply_umask_modes(root: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o777 & ~umask)
        for filename in filenames:
            os.chmod(os.path.join(dirpath, filename), 0o666 & ~umask)
