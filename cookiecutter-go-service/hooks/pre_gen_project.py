"""Validate the answers before cookiecutter writes anything (one clear line and exit 1 on a bad one)."""

import re
import sys

ANSWERS = {
    "service_slug": {{ cookiecutter.service_slug | tojson }},
    "module_path": {{ cookiecutter.module_path | tojson }},
    "port": {{ cookiecutter.port | tojson }},
    "framework": {{ cookiecutter.framework | tojson }},
    "ci": {{ cookiecutter.ci | tojson }},
    "image_repository": {{ cookiecutter.image_repository | tojson }},
    "app_version": {{ cookiecutter.app_version | tojson }},
    "go_version": {{ cookiecutter.go_version | tojson }},
}


def main() -> int:
    try:
        from chartgen.scaffold import validate_service_answers
    except ImportError:
        print("Error: chartgen is not installed in this Python; pip install chartgen (the template uses its "
              "chart generator)", file=sys.stderr)
        return 1
    from chartgen.errors import ChartgenError

    try:
        validate_service_answers(**ANSWERS)
    except ChartgenError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if not re.fullmatch(r"1\.\d+(\.\d+)?", ANSWERS["go_version"]):
        print(f"Error: go_version {ANSWERS['go_version']!r} is not a Go version such as 1.25", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
