"""What every Pusher shares: options, the result of one push, and the idempotency rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from chartgen.archive import ChartArchive
from chartgen.credentials import Credentials

PUSHED, SKIPPED, REFUSED, FAILED = "pushed", "skipped", "refused", "failed"


@dataclass
class PushOptions:
    """How to publish (from the command line)."""

    force: bool = False
    skip_existing: bool = False
    plain_http: bool = False
    ca_file: str | None = None
    insecure_skip_tls_verify: bool = False
    init: bool = False
    credentials: Credentials | None = field(default=None, repr=False)


@dataclass
class PublishResult:
    """The outcome of publishing one archive: pushed, skipped, refused or failed."""

    chart: str
    version: str
    outcome: str
    reference: str
    #: sha256 of the chart archive (what index.yaml lists as its digest)
    digest: str
    message: str = ""
    #: OCI only: the digest of the manifest the registry stores (what `helm pull` prints)
    manifest_digest: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Pusher(Protocol):
    """Publishes archives to one repository."""

    def push(self, archive: ChartArchive) -> PublishResult: ...


def existing_outcome(archive: ChartArchive, existing_digest: str | None, options: PushOptions,
                     reference: str) -> PublishResult | None:
    """The result when the version already exists, or None to go on and (over)write it.

    Same digest: skipped. Another digest: refused, unless --force (overwrite) or --skip-existing (skip).
    """
    if existing_digest is None:
        return None
    if existing_digest == archive.digest:
        return PublishResult(archive.name, archive.version, SKIPPED, reference, archive.digest,
                             "already published with the same digest")
    if options.force:
        return None
    outcome = SKIPPED if options.skip_existing else REFUSED
    hint = "" if options.skip_existing else "; bump the chart version, or pass --force to overwrite it"
    return PublishResult(archive.name, archive.version, outcome, reference, archive.digest,
                         f"{archive.name} {archive.version} already exists with another digest "
                         f"(sha256:{existing_digest[:12]}...){hint}")
