"""Generate charts (and, later, services) into place atomically."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
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
        "icon": answers.icon,
        "maintainers": [dict(m) for m in answers.maintainers],
        "values_table": render_values_table(answers),
    }
    files = render_tree(context)
    files[chartmod.VALUES_FILE] = render_values_yaml(answers)
    files[chartmod.SCHEMA_FILE] = render_values_schema(answers)
    # The README's table ends with a newline of its own; keep one blank line at most.
    files["README.md"] = files["README.md"].rstrip("\n") + "\n"
    return dict(sorted(files.items()))


def make_answers(name: str, *, image_repository: str | None = None, port: int = 8080, app_version: str = "0.1.0",
                 version: str = "0.1.0", description: str = "", icon: str = "",
                 maintainers: Sequence[str] = ()) -> tuple[Answers, list[str]]:
    """Validate the answers of ``chart create``; return them and any warnings.

    ``maintainers`` are 'NAME' or 'NAME <EMAIL>' strings.
    """
    warnings = chartmod.validate_chart_name(name)
    repository = f"{DEFAULT_IMAGE_REGISTRY}/{name}" if image_repository is None else image_repository
    chartmod.validate_image_repository(repository)
    chartmod.validate_port(port)
    chartmod.validate_app_version(app_version)
    chartmod.validate_version(version)
    if "\n" in description:
        raise InvalidValueError("description must be a single line")
    if icon:
        chartmod.validate_icon(icon)
    answers = Answers(name=name, image_repository=repository, port=port, app_version=app_version,
                      version=version, description=description, icon=icon,
                      maintainers=tuple(chartmod.parse_maintainer(m) for m in maintainers))
    return answers, warnings


def create_chart(name: str, output_dir: str | os.PathLike[str] = "charts", *, image_repository: str | None = None,
                 port: int = 8080, app_version: str = "0.1.0", version: str = "0.1.0", description: str = "",
                 icon: str = "", maintainers: Sequence[str] = (), force: bool = False) -> CreateResult:
    """Create the chart ``name`` in ``output_dir/name``.

    Everything is validated before any path is built; the chart is rendered into a temporary
    directory next to the target and renamed into place, so a failure leaves nothing behind.
    An existing target is only replaced with ``force``. ``maintainers``: 'NAME' or 'NAME <EMAIL>'.
    """
    answers, warnings = make_answers(name, image_repository=image_repository, port=port,
                                     app_version=app_version, version=version, description=description,
                                     icon=icon, maintainers=maintainers)
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
        replaced = _move_into_place(staging, target)
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
            _remove_created(created)


def _remove_created(created: list[Path]) -> None:
    """Remove the directories a failed command created (innermost first), as far as they are empty."""
    for directory in reversed(created):
        try:
            directory.rmdir()
        except OSError:
            break


def _move_into_place(source: Path, target: Path) -> bool:
    """Rename ``source`` to ``target``; an existing target is swapped out and removed only once the
    new one is in place (put back if the rename fails). Returns whether a target was replaced."""
    if not target.exists():
        os.rename(source, target)
        return False
    backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".chartgen-old", dir=target.parent))
    os.rmdir(backup)
    os.rename(target, backup)
    try:
        os.rename(source, target)
    except OSError:
        os.rename(backup, target)
        raise
    shutil.rmtree(backup, ignore_errors=True)
    return True


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


# --- services (chartgen new) ---------------------------------------------------------------

FRAMEWORKS = ("stdlib", "gin")
CI_SYSTEMS = ("github", "gitlab", "jenkins")
_MODULE_ELEMENT = re.compile(r"[A-Za-z0-9_~-]([A-Za-z0-9._~-]*[A-Za-z0-9_~-])?")


def template_dir() -> Path:
    """The cookiecutter template: inside the installed package, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "cookiecutter_go_service", here.parent / "cookiecutter-go-service"):
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise ChartgenError(f"the service template is missing next to {here}; reinstall chartgen")


def validate_module_path(module: str) -> None:
    """A Go module path: '/'-separated elements, the first lowercase (a domain or a single word)."""
    elements = module.split("/")
    if not module or len(module) > 300 or any(not _MODULE_ELEMENT.fullmatch(e) for e in elements) \
            or elements[0] != elements[0].lower() or ".." in module:
        raise InvalidValueError(f"Go module path {module!r} is invalid: use a path such as "
                                "github.com/acme/payments or example.com/payments")


def parse_ci(ci: str) -> list[str]:
    """'github,gitlab' -> ['github', 'gitlab']; '' or 'none' -> []."""
    chosen = [c.strip().lower() for c in ci.split(",") if c.strip() and c.strip().lower() != "none"]
    unknown = [c for c in chosen if c not in CI_SYSTEMS]
    if unknown:
        raise InvalidValueError(f"unknown CI system {unknown[0]!r}: choose from {', '.join(CI_SYSTEMS)}")
    return list(dict.fromkeys(chosen))


def validate_service_answers(*, service_slug: str, module_path: str, port: str | int, framework: str, ci: str,
                             image_repository: str, app_version: str, go_version: str = "") -> list[str]:
    """Check the answers of the service template (used by chartgen new and by the template's hook)."""
    warnings = chartmod.validate_chart_name(service_slug)
    validate_module_path(module_path)
    try:
        port_number = int(port)
    except (TypeError, ValueError):
        raise InvalidValueError(f"port {port!r} is not a number from 1 to 65535") from None
    chartmod.validate_port(port_number)
    if framework not in FRAMEWORKS:
        raise InvalidValueError(f"framework {framework!r}: choose stdlib or gin")
    parse_ci(ci)
    chartmod.validate_image_repository(image_repository)
    chartmod.validate_app_version(app_version)
    return warnings


@dataclass
class ServiceResult:
    """What create_service did."""

    name: str
    path: str
    chart: str
    framework: str
    ci: list[str]
    files: list[str]
    warnings: list[str] = field(default_factory=list)
    replaced: bool = False

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def create_service(name: str, output_dir: str | os.PathLike[str] = ".", *, module: str | None = None,
                   port: int = 8080, framework: str = "stdlib", ci: str = "github",
                   image_repository: str | None = None, app_version: str = "0.1.0", description: str = "",
                   icon: str = "", maintainers: Sequence[str] = (), no_input: bool = True,
                   force: bool = False) -> ServiceResult:
    """Create the Go service ``name`` (with its chart in charts/NAME) in ``output_dir/name``.

    The service comes from the cookiecutter template, the chart from chartgen's chart generator
    (called by the template's hook). Rendered into a temporary directory, then renamed into place.
    """
    module = module or f"example.com/{name}"
    repository = f"{DEFAULT_IMAGE_REGISTRY}/{name}" if image_repository is None else image_repository
    warnings = validate_service_answers(service_slug=name, module_path=module, port=port, framework=framework,
                                        ci=ci, image_repository=repository, app_version=app_version)
    if "\n" in description:
        raise InvalidValueError("description must be a single line")
    if icon:
        chartmod.validate_icon(icon)
    for maintainer in maintainers:
        chartmod.parse_maintainer(maintainer)  # refused before anything is written
    target = Path(output_dir) / name
    if (target.exists() or target.is_symlink()) and not force:
        raise TargetExistsError(f"{target} already exists: choose another name or --output-dir, or pass --force "
                                "to replace it")
    parent = target.parent
    created = _make_parents(parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".chartgen-tmp", dir=parent))
    done = False
    try:
        from cookiecutter.exceptions import CookiecutterException, FailedHookException
        from cookiecutter.main import cookiecutter
        from jinja2 import TemplateError

        context = {"service_name": name, "service_slug": name, "module_path": module, "port": str(port),
                   "framework": framework, "ci": ",".join(parse_ci(ci)), "image_repository": repository,
                   "app_version": app_version, "description": description or f"The {name} HTTP service",
                   "__icon": icon, "__maintainers": json.dumps(list(maintainers))}
        try:
            cookiecutter(str(template_dir()), no_input=no_input, extra_context=context, output_dir=str(staging),
                         accept_hooks=True)
        except FailedHookException as exc:
            raise ChartgenError(f"the service template's hook failed: {exc}") from None
        except (CookiecutterException, TemplateError) as exc:
            raise ChartgenError(f"cannot render the service template: {exc}") from None
        rendered = staging / name
        files = sorted(p.relative_to(rendered).as_posix() for p in rendered.rglob("*") if p.is_file())
        replaced = _move_into_place(rendered, target)
        done = True
        return ServiceResult(name=name, path=str(target), chart=str(target / "charts" / name), framework=framework,
                             ci=parse_ci(ci), files=files, warnings=warnings, replaced=replaced)
    except OSError as exc:
        raise ChartgenError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not done:
            _remove_created(created)
