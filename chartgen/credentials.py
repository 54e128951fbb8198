"""Registry and repository credentials, in order: flags, CHARTGEN_* environment, helm's
registry config, docker's config.json. Read only, never written, never printed."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chartgen.errors import ChartgenError

ENV_USERNAME = "CHARTGEN_USERNAME"
ENV_PASSWORD = "CHARTGEN_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    """A username and a secret; ``repr`` and ``str`` never show the secret."""

    username: str
    password: str = field(repr=False)
    source: str = ""

    def __str__(self) -> str:
        return f"{self.username} (from {self.source})"

    def basic_header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def helm_registry_config(env: Mapping[str, str]) -> Path:
    if env.get("HELM_REGISTRY_CONFIG"):
        return Path(env["HELM_REGISTRY_CONFIG"])
    base = env.get("HELM_CONFIG_HOME") or os.path.join(env.get("XDG_CONFIG_HOME") or
                                                       os.path.join(env.get("HOME", "~"), ".config"), "helm")
    return Path(os.path.expanduser(base)) / "registry" / "config.json"


def docker_config(env: Mapping[str, str]) -> Path:
    base = env.get("DOCKER_CONFIG") or os.path.join(env.get("HOME", "~"), ".docker")
    return Path(os.path.expanduser(base)) / "config.json"


def _host_key(key: str) -> str:
    """'https://host:5000/v1/' -> 'host:5000' (docker config keys come in several shapes)."""
    key = key.strip()
    if "://" in key:
        key = key.split("://", 1)[1]
    return key.split("/", 1)[0].lower()


def _from_config(path: Path, host: str) -> Credentials | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ChartgenError(f"{path}: cannot read credentials ({type(exc).__name__}); fix or move the file") from None
    auths = doc.get("auths") if isinstance(doc, dict) else None
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if _host_key(str(key)) != host.lower() or not isinstance(entry, dict):
            continue
        if entry.get("username") and entry.get("password"):
            return Credentials(str(entry["username"]), str(entry["password"]), str(path))
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise ChartgenError(f"{path}: the auth entry for {host} is not base64 'user:password'") from None
            if user and password:
                return Credentials(user, password, str(path))
    return None


def resolve(host: str, *, username: str | None = None, password: str | None = None,
            env: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials for ``host`` (host[:port]), or None for anonymous access."""
    env = os.environ if env is None else env
    if username is not None and password is None:
        password = env.get(ENV_PASSWORD) or None
    if username is not None or password is not None:
        if not username or password is None:
            raise ChartgenError("give both --username and a password (--password-stdin or CHARTGEN_PASSWORD)")
        return Credentials(username, password, "command line")
    if env.get(ENV_USERNAME) or env.get(ENV_PASSWORD):
        if not (env.get(ENV_USERNAME) and env.get(ENV_PASSWORD)):
            raise ChartgenError(f"set both {ENV_USERNAME} and {ENV_PASSWORD}, or neither")
        return Credentials(env[ENV_USERNAME], env[ENV_PASSWORD], "environment")
    for path in (helm_registry_config(env), docker_config(env)):
        found = _from_config(path, host)
        if found:
            return found
    return None
