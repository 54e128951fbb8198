"""Keep the chosen framework's and CI's files, then generate the Helm chart with chartgen's own
chart generator (one source of truth: the template holds no copy of the chart templates)."""

import json
import os
import shutil
import sys
from pathlib import Path

SLUG = {{ cookiecutter.service_slug | tojson }}
FRAMEWORK = {{ cookiecutter.framework | tojson }}
CI = [c.strip() for c in {{ cookiecutter.ci | tojson }}.split(",") if c.strip()]
CI_FILES = {"github": ".github", "gitlab": ".gitlab-ci.yml", "jenkins": "Jenkinsfile"}


def main() -> int:
    from chartgen.errors import ChartgenError
    from chartgen.scaffold import create_chart

    root = Path.cwd()
    for name, path in CI_FILES.items():
        if name not in CI:
            target = root / path
            shutil.rmtree(target) if target.is_dir() else target.unlink()
    if FRAMEWORK != "gin":
        (root / "go.sum").unlink()  # the standard library needs no modules
    try:
        create_chart(SLUG, root / "charts", image_repository={{ cookiecutter.image_repository | tojson }},
                     port=int({{ cookiecutter.port | tojson }}), app_version={{ cookiecutter.app_version | tojson }},
                     description={{ cookiecutter.description | tojson }}, icon={{ cookiecutter.__icon | tojson }},
                     maintainers=json.loads({{ cookiecutter.__maintainers | tojson }}))
    except ChartgenError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    os.chmod(root, 0o755)
    return 0


if __name__ == "__main__":
    sys.exit(main())
