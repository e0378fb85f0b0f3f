"""The client of Open edX's course-discovery service: every MicroMasters program and every pathway.

The shape is course-discovery's own (openedx/course-discovery, `course_discovery/apps/api`): the
program list (`/api/v1/programs/?types=micromasters`) is paginated by DRF's PageNumberPagination
(`count`, `next`, `results`) with MinimalProgramSerializer's fields, so each program's detail
(`/api/v1/programs/<uuid>/`, ProgramSerializer: `price_ranges`, `credit_backing_organizations`, ...)
is read too; pathways come from `/api/v1/pathways/?status=published`. Requests carry `Authorization:
JWT <token>`, the token an Open edX LMS issues a backend service for its OAuth2 client credentials.

A fetch is whole or it is nothing: `fetch_snapshot` returns only once every page and every program
has been read, and raises `DiscoveryError` (saying what failed) otherwise, so a sync never writes
half an API. Connection errors, timeouts and 429/5xx answers are retried with exponential back-off by
urllib3's `Retry`; a 401 gets one new token, then fails.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, Iterator, List, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from core import settings

MICROMASTERS = "micromasters"  # course-discovery's ProgramType slug
PAGE_SIZE = 100
MAX_PAGES = 1000  # a `next` link that never ends is a broken server, not a big catalog


class DiscoveryError(RuntimeError):
    """The sync could not read course-discovery whole: nothing was changed."""


@dataclass(frozen=True)
class Snapshot:
    """What course-discovery said, read whole, and when."""

    programs: List[Dict]  # ProgramSerializer objects of type MicroMasters
    pathways: List[Dict]  # PathwaySerializer objects, published
    fetched_at: datetime
    api_url: str


@dataclass(frozen=True)
class DiscoveryConfig:
    api_url: str
    oauth_url: str
    client_id: str
    client_secret: str
    timeout: float = 20.0
    retries: int = 4
    backoff: float = 0.5
    page_size: int = PAGE_SIZE

    @classmethod
    def from_settings(cls) -> "DiscoveryConfig":
        config = cls(settings.discovery_api_url(), settings.discovery_oauth_url(), settings.discovery_client_id(),
                     settings.discovery_client_secret(), settings.discovery_timeout_seconds())
        missing = [name for name, value in (("DISCOVERY_API_URL", config.api_url),
                                            ("DISCOVERY_OAUTH_URL", config.oauth_url),
                                            ("DISCOVERY_CLIENT_ID", config.client_id),
                                            ("DISCOVERY_CLIENT_SECRET", config.client_secret)) if not value]
        if missing:
            raise DiscoveryError(f"course-discovery is not configured: set {', '.join(missing)}")
        return config


class DiscoveryClient:
    def __init__(self, config: DiscoveryConfig):
        self.config = config
        self._http = requests.Session()
        retry = Retry(total=config.retries, connect=config.retries, read=config.retries, status=config.retries,
                      backoff_factor=config.backoff, status_forcelist=(429, 500, 502, 503, 504),
                      allowed_methods=frozenset({"GET", "POST"}), raise_on_status=False,
                      respect_retry_after_header=True)
        adapter = HTTPAdapter(max_retries=retry)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)
        self._token: Optional[str] = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "DiscoveryClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- authentication ----------------------------------------------------------------------------

    def _new_token(self) -> str:
        url = f"{self.config.oauth_url}/oauth2/access_token"
        form = {"grant_type": "client_credentials", "client_id": self.config.client_id,
                "client_secret": self.config.client_secret, "token_type": "jwt"}
        response = self._send("POST", url, data=form)
        if response.status_code != 200:
            raise DiscoveryError(f"the LMS refused the sync's client credentials at {url}: "
                                 f"HTTP {response.status_code} {_short(response)}")
        token = _json(response, url).get("access_token")
        if not isinstance(token, str) or not token:
            raise DiscoveryError(f"the LMS answered {url} without an access_token")
        return token

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            return self._http.request(method, url, timeout=self.config.timeout, **kwargs)
        except requests.exceptions.RetryError as error:
            raise DiscoveryError(f"{url} kept failing after {self.config.retries} retries: {error}") from error
        except requests.RequestException as error:
            raise DiscoveryError(f"could not reach {url} (after {self.config.retries} retries): "
                                 f"{type(error).__name__}") from error

    def get(self, url: str) -> Dict:
        for attempt in range(2):
            if self._token is None:
                self._token = self._new_token()
            response = self._send("GET", url, headers={"Authorization": f"JWT {self._token}",
                                                       "Accept": "application/json"})
            if response.status_code == 401 and attempt == 0:
                self._token = None  # expired or revoked: one new token, then give up
                continue
            if response.status_code != 200:
                raise DiscoveryError(f"course-discovery answered {url} with HTTP {response.status_code} "
                                     f"{_short(response)}")
            return _json(response, url)
        raise DiscoveryError(f"course-discovery refused a new token for {url} (HTTP 401)")

    # ---- the API -----------------------------------------------------------------------------------

    def pages(self, path: str, query: str) -> Iterator[Dict]:
        url: Optional[str] = f"{self.config.api_url}{path}?{query}&page=1&page_size={self.config.page_size}"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            page = self.get(url)
            results, url = page.get("results"), page.get("next")
            if not isinstance(results, list) or not (url is None or isinstance(url, str)):
                raise DiscoveryError(f"{path}: a page without a `results` list or with a bad `next` link")
            yield from results
        raise DiscoveryError(f"{path}: more than {MAX_PAGES} pages; stopped")

    def fetch_snapshot(self) -> Snapshot:
        listed = list(self.pages("/api/v1/programs/", f"types={MICROMASTERS}"))
        programs = []
        for item in listed:
            uuid = item.get("uuid") if isinstance(item, dict) else None
            if not isinstance(uuid, str) or not uuid:
                raise DiscoveryError("/api/v1/programs/: a program without a uuid")
            programs.append(self.get(f"{self.config.api_url}/api/v1/programs/{uuid}/"))
        pathways = list(self.pages("/api/v1/pathways/", "status=published"))
        return Snapshot(programs, pathways, datetime.now(timezone.utc), self.config.api_url)


def _json(response: requests.Response, url: str) -> Dict:
    try:
        body = response.json()
    except ValueError as error:
        raise DiscoveryError(f"{url} answered something that is not JSON") from error
    if not isinstance(body, dict):
        raise DiscoveryError(f"{url} answered JSON that is not an object")
    return body


def _short(response: requests.Response) -> str:
    return response.text[:200].replace("\n", " ")
