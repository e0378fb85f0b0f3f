"""The catalog as the action server reads it: one snapshot per catalog revision.

Every turn opens a session and reads the catalog's revision (one indexed single-row query); the
facts, general facts, FAQ index and the program resolver are rebuilt only when that revision has moved, so a
catalog load is picked up by the next message, without retraining or restarting anything.
"""

import threading
from dataclasses import dataclass
from typing import Dict, Optional

from sqlalchemy.orm import Session

from actions.catalog import (
    GeneralFactText,
    ProgramFacts,
    all_program_facts,
    catalog_revision,
    faq_facts,
    general_facts,
    program_names,
)
from actions.faq import FaqIndex
from actions.programs import ProgramResolver


@dataclass(frozen=True)
class CatalogView:
    revision: Optional[int]
    resolver: ProgramResolver
    programs: Dict[str, ProgramFacts]
    general: Dict[str, GeneralFactText]
    faq: FaqIndex


_lock = threading.Lock()
_views: Dict[str, CatalogView] = {}


def current_view(session: Session) -> CatalogView:
    """The snapshot for the catalog as it is in the database now."""
    revision = catalog_revision(session)
    key = str(session.get_bind().url)
    with _lock:
        view = _views.get(key)
    if view is not None and view.revision == revision:
        return view
    view = CatalogView(
        revision=revision,
        resolver=ProgramResolver(program_names(session)),
        programs=all_program_facts(session),
        general=general_facts(session),
        faq=FaqIndex(faq_facts(session)),
    )
    with _lock:
        _views[key] = view
    return view


def forget_views() -> None:
    """Drop cached snapshots (tests that recreate a database under the same URL)."""
    with _lock:
        _views.clear()
