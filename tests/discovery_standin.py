"""A stand-in for Open edX's course-discovery service (and the LMS's OAuth2 token endpoint) on 127.0.0.1.

It speaks the real service's shape, read from openedx/course-discovery:
- `POST /oauth2/access_token` (form: grant_type=client_credentials, client_id, client_secret,
  token_type=jwt) answers `{"access_token", "token_type": "JWT", "expires_in", "scope"}`, as the LMS
  does for a backend service; wrong credentials answer 401 `{"error": "invalid_client"}`.
- `GET /api/v1/programs/?types=micromasters&page=N&page_size=M` lists programs with
  MinimalProgramSerializer's fields, paginated like DRF's PageNumberPagination (`count`, `next`,
  `previous`, `results`); `GET /api/v1/programs/<uuid>/` answers ProgramSerializer's fields
  (`price_ranges`, `applicable_seat_types`, `credit_backing_organizations`, ...).
- `GET /api/v1/pathways/?status=published` lists PathwaySerializer's fields, paginated the same way.
- Without `Authorization: JWT <token>` the API answers 401 `{"detail": "Authentication credentials
  were not provided."}`, as DRF does.

The data is a JSON fixture in that shape (`tests/fixtures/discovery/`), held in `programs` (full
detail objects) and `pathways`; tests edit them to play a new program, a retired one, a price change.
Faults: `fail_on` maps a request path (with its query) to a status to answer, `malformed` lists paths
whose body is not JSON, `delay` makes every API answer that many seconds late, `revoke()` makes the
issued token invalid.
"""

import copy
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Set
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.servers import free_port

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "discovery"
DEFAULT_PAGE_SIZE = 20  # the service's REST_FRAMEWORK PAGE_SIZE

# MinimalProgramSerializer.Meta.fields: what a list page shows of each program.
MINIMAL_PROGRAM_FIELDS = (
    "uuid", "title", "subtitle", "type", "type_attrs", "status", "marketing_slug", "marketing_url",
    "banner_image", "hidden", "courses", "authoring_organizations", "card_image_url",
    "is_program_eligible_for_one_click_purchase", "degree", "curricula", "marketing_hook",
    "total_hours_of_effort", "recent_enrollment_count", "organization_short_code_override",
    "organization_logo_override_url", "primary_subject_override", "level_type_override", "language_override",
    "labels", "taxi_form", "program_duration_override", "data_modified_timestamp",
    "excluded_from_search", "excluded_from_seo", "has_ofac_restrictions", "ofac_comment",
    "course_run_statuses", "subscription_eligible", "subscription_prices",
)


def load_fixture(name: str = "catalog.json") -> Dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class DiscoveryStandIn:
    def __init__(self, client_id: str = "sync-client", client_secret: str = "sync-secret",
                 fixture: Optional[Dict] = None):
        data = copy.deepcopy(fixture if fixture is not None else load_fixture())
        self.programs: List[Dict] = data["programs"]
        self.pathways: List[Dict] = data["pathways"]
        self.client_id, self.client_secret = client_id, client_secret
        self.tokens: Set[str] = set()
        self.requests: List[str] = []  # every API path asked, with its query, in order
        self.fail_on: Dict[str, int] = {}
        self.malformed: Set[str] = set()
        self.delay = 0.0
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if urlsplit(self.path).path != "/oauth2/access_token":
                    return self._answer(404, {"detail": "Not found."})
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                status, body = stand_in.token(form)
                self._answer(status, body)

            def do_GET(self):  # noqa: N802
                with stand_in._lock:
                    stand_in.requests.append(self.path)
                if stand_in.delay:
                    time.sleep(stand_in.delay)
                status, body = stand_in.api(self.path, self.headers.get("Authorization") or "",
                                            f"http://{self.headers.get('Host')}")
                if self.path in stand_in.malformed:
                    return self._raw(200, b'{"count": 3, "results": [{"uuid": ')
                self._answer(status, body)

            def _answer(self, status: int, body: Dict) -> None:
                self._raw(status, json.dumps(body).encode())

            def _raw(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "DiscoveryStandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def revoke(self) -> None:
        with self._lock:
            self.tokens.clear()

    def program(self, slug: str) -> Dict:
        return next(p for p in self.programs if p["marketing_slug"] == slug)

    # ---- the protocol ------------------------------------------------------------------------------

    def token(self, form: Dict[str, str]):
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client"}
        token = uuid.uuid4().hex
        with self._lock:
            self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "JWT", "expires_in": 3600,
                     "scope": "read write email profile"}

    def api(self, path: str, authorization: str, base: str):
        if path in self.fail_on:
            return self.fail_on[path], {"detail": "Service unavailable."}
        scheme, _, token = authorization.partition(" ")
        if scheme != "JWT" or not token:
            return 401, {"detail": "Authentication credentials were not provided."}
        with self._lock:
            valid = token in self.tokens
        if not valid:
            return 401, {"detail": "Invalid token."}
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/api/v1/programs/":
            types = set(filter(None, query.get("types", "").split(",")))
            listed = [self._minimal(p) for p in self.programs if not types or p["type_attrs"]["slug"] in types]
            return self._page(base + parts.path, query, listed)
        if parts.path.startswith("/api/v1/programs/"):
            wanted = parts.path[len("/api/v1/programs/"):].strip("/")
            found = [p for p in self.programs if p["uuid"] == wanted]
            return (200, copy.deepcopy(found[0])) if found else (404, {"detail": "Not found."})
        if parts.path == "/api/v1/pathways/":
            status = query.get("status")
            listed = [copy.deepcopy(p) for p in self.pathways if not status or p["status"] == status]
            return self._page(base + parts.path, query, listed)
        return 404, {"detail": "Not found."}

    def _minimal(self, program: Dict) -> Dict:
        return {field: copy.deepcopy(program.get(field)) for field in MINIMAL_PROGRAM_FIELDS}

    @staticmethod
    def _page(url: str, query: Dict[str, str], items: List[Dict]):
        try:
            page = int(query.get("page", "1"))
            size = int(query.get("page_size", str(DEFAULT_PAGE_SIZE)))
        except ValueError:
            return 404, {"detail": "Invalid page."}
        pages = max(1, -(-len(items) // size))
        if page < 1 or page > pages:
            return 404, {"detail": "Invalid page."}

        def link(number: int) -> str:
            return f"{url}?{urlencode({**query, 'page': number})}"

        return 200, {"count": len(items), "next": link(page + 1) if page < pages else None,
                     "previous": link(page - 1) if page > 1 else None,
                     "results": items[(page - 1) * size: page * size]}
