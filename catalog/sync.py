"""One catalog sync: read course-discovery whole, lay it over the curated file, load it if it changed.

Nothing is written unless every step succeeded: the API read whole (`DiscoveryError` otherwise), the
merged catalog valid (`CatalogFileError`), and the load one transaction (`load_catalog`). A sync
whose merged catalog is the one already loaded writes nothing and says so.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

from sqlalchemy.engine import Engine

from catalog.discovery import DiscoveryClient, Snapshot
from catalog.file import parse_catalog, read_catalog
from catalog.loader import checksum, export_catalog, load_catalog, loaded_checksum, stored_snapshot
from catalog.merge import changes, merge
from catalog.models import DiscoverySnapshot


@dataclass(frozen=True)
class SyncResult:
    changes: List[str]  # what the load changes (or would change, on a dry run)
    revision: Optional[int]  # the new catalog revision; None when nothing was written

    def summary(self) -> str:
        if not self.changes and self.revision is None:
            return "course-discovery sync: nothing changed."
        head = (f"course-discovery sync: catalog revision {self.revision}" if self.revision is not None
                else "course-discovery sync (dry run, nothing written)")
        return "\n".join([f"{head}, {len(self.changes)} change(s):", *(f"- {line}" for line in self.changes)])


def sync(engine: Engine, curated_file: Path, client: DiscoveryClient, dry_run: bool = False,
         report: Callable[[str], None] = print) -> SyncResult:
    curated = read_catalog(curated_file)  # a bad file fails before the API is asked anything
    snapshot = client.fetch_snapshot()
    current = export_catalog(engine) if loaded_checksum(engine) else {}
    merged = parse_catalog(merge(curated.dict(), snapshot, current), "<course-discovery sync>")
    merged_dict = merged.dict()
    lines = changes(current, merged_dict) if current else [f"first load: {len(merged.programs)} programs"]
    if dry_run:
        result = SyncResult(lines, None)
    elif checksum(merged) == loaded_checksum(engine):
        result = SyncResult([], None)
    else:
        row = DiscoverySnapshot(id=1, api_url=snapshot.api_url, fetched_at=snapshot.fetched_at,
                                payload=json.dumps({"programs": snapshot.programs, "pathways": snapshot.pathways}))
        result = SyncResult(lines, load_catalog(engine, merged, row))
    report(result.summary())
    return result


def with_stored_snapshot(engine: Engine, curated: dict) -> dict:
    """`curated` with the last sync's course-discovery facts over it (for `catalog load`), or as it is."""
    row = stored_snapshot(engine)
    if row is None:
        return curated
    payload = json.loads(row.payload)
    snapshot = Snapshot(payload["programs"], payload["pathways"], row.fetched_at, row.api_url)
    current = export_catalog(engine) if loaded_checksum(engine) else {}
    return merge(curated, snapshot, current)
