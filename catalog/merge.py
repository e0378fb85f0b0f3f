"""Course-discovery's facts laid over the hand-curated catalog: the merge, and the diff it makes.

`merge` is a plain function of the curated catalog (the file's dict form), a course-discovery
`Snapshot` and the catalog the database holds now; it returns the catalog to load:

- a program is course-discovery's when its `marketing_slug` is a catalog program id, or its
  `marketing_url` is one's program page; any other MicroMasters program is added, with the edX-wide
  admission statement and nothing else curated about it;
- the API gives status (active, retired; deleted reads as retired, unpublished as unknown), the
  price ranges per currency (per course and in total, as the service sums them), the number of
  courses, course codes, and credit pathways (the pathway's school and degree; the API has no credit
  share). Each fact is sourced to the program's marketing URL, as of the day the sync first saw it;
- curated facts are kept: admission, career, employers, FAQ answers, credit pathways at a school the
  API also names, a "moved" status the API calls retired. A curated price is not overwritten: the
  API's is newer, so answers give it and show the curated one as history ("was $1,350 as of 2018");
- an API field that is empty or missing changes nothing.

`changes` lists what a load of the merged catalog would change, for a person to read: new programs,
status changes, price changes, pathways added or dropped, and each conflict between a curated price
and the API's of the same family (total, per course, exam), both named. A second sync of the same API answers
changes nothing: facts that did not change keep their first as-of date.
"""

import copy
import re
from typing import Dict, Iterable, List, Optional, Tuple

from catalog.discovery import Snapshot
from catalog.facts import PRICE_FAMILIES
from catalog.file import SYNCED_SOURCE_PREFIX

SOURCE_PREFIX = SYNCED_SOURCE_PREFIX
STATUS_OF_API = {"active": "active", "retired": "retired", "deleted": "retired", "unpublished": "unknown"}
CREDIT_PATHWAY = "credit"


def source_id(slug: str) -> str:
    return f"{SOURCE_PREFIX}{slug}"


def is_synced(source: Optional[str]) -> bool:
    return bool(source) and source.startswith(SOURCE_PREFIX)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _number(value) -> Optional[float]:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def merge(curated: Dict, snapshot: Snapshot, current: Optional[Dict] = None) -> Dict:
    """The catalog to load: `curated` (a catalog file's dict) with course-discovery's facts laid over it."""
    merged = copy.deepcopy(curated)
    today = snapshot.fetched_at.date().isoformat()
    previous = {p["id"]: p for p in (current or {}).get("programs", [])}
    programs = {p["id"]: p for p in merged["programs"]}
    by_page = {}
    source_urls = {s["id"]: s.get("url") for s in merged["sources"]}
    first_seen = {s["id"]: s for s in (current or {}).get("sources", []) if is_synced(s["id"])}
    for program in merged["programs"]:
        if program.get("program_page") and source_urls.get(program["program_page"]):
            by_page[source_urls[program["program_page"]].rstrip("/")] = program["id"]
    institutions = _InstitutionIndex(merged["institutions"])
    used_codes = {code.lower() for p in merged["programs"] for code in p.get("course_codes", [])}
    pathways = _pathways_by_program(snapshot.pathways)
    for api in sorted(snapshot.programs, key=lambda p: str(p.get("marketing_slug") or p.get("uuid"))):
        slug = api.get("marketing_slug") or ""
        if not slug or (api.get("type_attrs") or {}).get("slug", "micromasters") != "micromasters":
            continue
        program_id = slug if slug in programs else by_page.get((api.get("marketing_url") or "").rstrip("/"))
        if program_id is None:
            program = _new_program(api, institutions)
            if program is None:
                continue
            merged["programs"].append(program)
            programs[program["id"]] = program
        program = programs[program_id or slug]
        synced = source_id(program["id"])
        if api.get("marketing_url"):
            _put_source(merged["sources"], synced, api["marketing_url"], _title(api), today, first_seen.get(synced))
            if not program.get("program_page"):
                program["program_page"] = synced
        elif not any(s["id"] == synced for s in merged["sources"]):
            continue  # nothing to cite: no fact of this program is taken from the API
        was = previous.get(program["id"], {})
        _set_status(program, api, synced, today, was)
        _set_prices(program, api, synced, today, was)
        _set_courses(program, api, used_codes, was)
        _set_pathways(program, pathways.get(api.get("uuid"), []), institutions, synced, today, was)
        if synced not in program.setdefault("sources", []):
            program["sources"].append(synced)
    merged["institutions"] = institutions.entries
    return merged


class _InstitutionIndex:
    def __init__(self, entries: List[Dict]):
        self.entries = entries
        self._by_name = {}
        for entry in entries:
            for name in (entry["name"], *entry.get("short_names", [])):
                self._by_name[name.lower()] = entry["id"]

    def find_or_add(self, name: str) -> Optional[str]:
        name = (name or "").strip()
        if not name:
            return None
        if name.lower() not in self._by_name:
            new_id = _slug(name)
            while any(e["id"] == new_id for e in self.entries):
                new_id += "-x"
            self.entries.append({"id": new_id, "name": name, "short_names": [], "country": None})
            self._by_name[name.lower()] = new_id
        return self._by_name[name.lower()]


def _title(api: Dict) -> str:
    return f"edX program page: {api.get('title') or api.get('marketing_slug')} (course-discovery)"


def _put_source(sources: List[Dict], sid: str, url: str, title: str, today: str, seen: Optional[Dict]) -> None:
    """The program's course-discovery source; first seen `seen` keeps its date while its URL stays."""
    as_of = seen["as_of"] if seen and seen.get("url") == url and seen.get("as_of") else today
    sources[:] = [s for s in sources if s["id"] != sid]
    sources.append({"id": sid, "url": url, "title": title, "as_of": as_of, "third_party": False})


def _new_program(api: Dict, institutions: _InstitutionIndex) -> Optional[Dict]:
    orgs = [o for o in api.get("authoring_organizations") or [] if isinstance(o, dict) and o.get("key")]
    title = (api.get("title") or "").strip()
    if not orgs or not title:
        return None
    org = orgs[0]
    institution = institutions.find_or_add(org.get("name") or org["key"])
    return {"id": api["marketing_slug"], "title": title, "edx_org": org["key"], "institution": institution,
            "unit": None, "program_page": None, "aliases": [], "course_codes": [], "launched": None,
            "num_courses": None, "courses_note": None, "status": None,
            "admission": {"guaranteed": False, "basis": "edx-wide", "note": None, "source": None},
            "career_outcomes": None, "prices": [], "price_note": None, "credit_pathways": [], "employers": [],
            "sources": []}


def _kept_as_of(fact: Dict, earlier: Iterable[Dict], today: str) -> str:
    """The first as-of date of a synced fact that has not changed since, else today."""
    def same(other: Dict) -> bool:
        return {k: v for k, v in other.items() if k != "as_of"} == {k: v for k, v in fact.items() if k != "as_of"}
    return next((e.get("as_of") or today for e in earlier if is_synced(e.get("source")) and same(e)), today)


def _set_status(program: Dict, api: Dict, synced: str, today: str, was: Dict) -> None:
    value = STATUS_OF_API.get(api.get("status") or "")
    if value is None or value == "unknown":
        return
    curated = program.get("status") or {}
    if value == "retired" and curated.get("value") == "moved":
        return  # the curated record says where it went: more than "retired"
    if value == curated.get("value") and not is_synced(curated.get("source")):
        return  # the same as the curated record, which keeps its own source
    status = {"value": value, "since": None, "successor": None, "successor_program": None,
              "successor_page": None, "as_of": today, "source": synced}
    status["as_of"] = _kept_as_of(status, [was.get("status") or {}], today)
    program["status"] = status


def _set_prices(program: Dict, api: Dict, synced: str, today: str, was: Dict) -> None:
    prices = []
    for price_range in api.get("price_ranges") or []:
        if not isinstance(price_range, dict):
            continue
        currency = price_range.get("currency") or None
        low, high, total = (_number(price_range.get(k)) for k in ("min", "max", "total"))
        if not low and not high:
            continue  # an audit-only program: no price said, none recorded
        note = "course-discovery's price range of the program's certificate seats"
        if low is not None and high is not None and high > low:
            prices.append({"kind": "per_course_range", "amount": low, "amount_max": high, "currency": currency,
                           "as_of": today, "note": note, "source": synced})
        else:
            prices.append({"kind": "per_course", "amount": high or low, "amount_max": None, "currency": currency,
                           "as_of": today, "note": note, "source": synced})
        if total:
            prices.append({"kind": "total", "amount": total, "amount_max": None, "currency": currency,
                           "as_of": today, "note": "course-discovery's total of the program's courses",
                           "source": synced})
    if not prices:  # an empty API field never removes a price, nor the one an earlier sync took
        kept = [p for p in was.get("prices", []) if is_synced(p.get("source"))]
        program["prices"] = [p for p in program.get("prices", []) if not is_synced(p.get("source"))] + kept
        return
    for price in prices:
        price["as_of"] = _kept_as_of(price, was.get("prices", []), today)
    program["prices"] = [p for p in program.get("prices", []) if not is_synced(p.get("source"))] + prices


def _set_courses(program: Dict, api: Dict, used_codes: set, was: Dict) -> None:
    courses = [c for c in api.get("courses") or [] if isinstance(c, dict) and c.get("key")]
    if not courses:  # keep what an earlier sync took
        courses = [{"key": f"+{code}"} for code in was.get("course_codes", [])]
        if was.get("num_courses") and not program.get("num_courses"):
            program["num_courses"] = was["num_courses"]
        if not courses:
            return
    if not program.get("num_courses"):
        program["num_courses"] = len(courses)
    for course in courses:
        code = course["key"].split("+", 1)[-1]
        if code and code.lower() not in used_codes:
            program.setdefault("course_codes", []).append(code)
            used_codes.add(code.lower())


def _pathways_by_program(pathways: List[Dict]) -> Dict[str, List[Dict]]:
    by_program: Dict[str, List[Dict]] = {}
    for pathway in pathways:
        if not isinstance(pathway, dict) or pathway.get("pathway_type") != CREDIT_PATHWAY:
            continue
        if pathway.get("status", "published") != "published":
            continue
        for program in pathway.get("programs") or []:
            if isinstance(program, dict) and program.get("uuid"):
                by_program.setdefault(program["uuid"], []).append(pathway)
    return by_program


def _set_pathways(program: Dict, pathways: List[Dict], institutions: _InstitutionIndex, synced: str,
                  today: str, was: Dict) -> None:
    curated = [p for p in program.get("credit_pathways", []) if not is_synced(p.get("source"))]
    schools = {p["institution"] for p in curated}
    added = []
    for pathway in sorted(pathways, key=lambda p: str(p.get("uuid"))):
        school = institutions.find_or_add(pathway.get("org_name") or "")
        if school is None or school in schools:
            continue
        entry = {"institution": school, "degree": (pathway.get("name") or "").strip() or None, "credit": None,
                 "as_of": today, "source": synced}
        entry["as_of"] = _kept_as_of(entry, was.get("credit_pathways", []), today)
        added.append(entry)
        schools.add(school)
    program["credit_pathways"] = curated + added


def changes(before: Dict, after: Dict) -> List[str]:
    """What loading `after` over `before` changes, one line per change a support agent would care about."""
    old = {p["id"]: p for p in before.get("programs", [])}
    lines: List[str] = []
    for program in after.get("programs", []):
        name, was = f"{program['edx_org']} {program['title']}", old.pop(program["id"], None)
        if was is None:
            lines.append(f"new program: {name} ({program['id']})")
            continue
        status, old_status = (program.get("status") or {}).get("value"), (was.get("status") or {}).get("value")
        if status != old_status:
            lines.append(f"{name}: status {old_status or 'not recorded'} -> {status or 'not recorded'}")
        lines += [f"{name}: price {text}" for text in _price_changes(was.get("prices", []), program.get("prices", []))]
        schools = lambda p: {(c["institution"], c.get("degree")) for c in p.get("credit_pathways", [])}  # noqa: E731
        for school, degree in sorted(schools(program) - schools(was), key=str):
            lines.append(f"{name}: credit pathway added at {school}" + (f" ({degree})" if degree else ""))
        for school, degree in sorted(schools(was) - schools(program), key=str):
            lines.append(f"{name}: credit pathway dropped at {school}" + (f" ({degree})" if degree else ""))
    lines += [f"program removed: {p['edx_org']} {p['title']} ({p['id']})" for p in old.values()]
    return lines


def _price_changes(before: List[Dict], after: List[Dict]) -> List[str]:
    def key(price: Dict) -> Tuple:
        return price["kind"], price.get("amount"), price.get("amount_max"), price.get("currency"), price.get("source")

    def show(price: Dict) -> str:
        amount = f"{price['amount']:g}" + (f"-{price['amount_max']:g}" if price.get("amount_max") else "")
        origin = "course-discovery" if is_synced(price.get("source")) else price.get("source") or "no source"
        return f"{price['kind']} {amount} {price.get('currency') or ''} ({origin}, as of {price.get('as_of')})"

    old, new = {key(p): p for p in before}, {key(p): p for p in after}
    added = [new[k] for k in new if k not in old]
    lines = [f"added {show(p)}" for p in added] + [f"removed {show(old[k])}" for k in old if k not in new]
    for price in (p for p in added if is_synced(p.get("source"))):
        family = PRICE_FAMILIES.get(price["kind"], price["kind"])
        for curated in after:
            if (not is_synced(curated.get("source")) and PRICE_FAMILIES.get(curated["kind"]) == family
                    and (curated["amount"], curated.get("amount_max")) != (price["amount"], price.get("amount_max"))):
                lines.append(f"conflict: {show(curated)} vs {show(price)}: answers give the newer one, "
                             "the other as history")
    return lines
