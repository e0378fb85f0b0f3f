"""Shared fixtures: real databases (a SQLite file, and a schema of its own on the PostgreSQL server)."""

import copy
import os
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from catalog.file import parse_catalog
from catalog.loader import load_catalog
from catalog.view import forget_views
from core.db import engine_for
from tests.slack_standin import SlackStandIn

SLACK_TOKEN = "xoxb-test-token"

# Property tests: the same examples on every `make test` (a CI result that does not depend on luck);
# HYPOTHESIS_PROFILE=explore draws new random examples, to look for new failures.
hypothesis_settings.register_profile("repeatable", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CATALOG_FILE = PROJECT_ROOT / "catalog" / "data" / "catalog.yaml"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def catalog_dict():
    """The shipped catalog file as plain data; tests deep-copy it before changing it."""
    return yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def raw_catalog(catalog_dict):
    return copy.deepcopy(catalog_dict)


def postgres_schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


class PostgresSchema:
    """A throw-away schema on the local PostgreSQL server, so tests never touch each other's tables."""

    def __init__(self):
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(POSTGRES_URL, future=True)
        try:
            with self.admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{self.name}"'))
        except OperationalError as error:
            self.admin.dispose()
            message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.orig}"
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail(message)
            pytest.skip(message)
        self.url = postgres_schema_url(self.name)

    def drop(self):
        engine_for(self.url).dispose()
        with self.admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.name}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """An empty database of each supported kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
        yield url
        engine_for(url).dispose()
    else:
        schema = PostgresSchema()
        yield schema.url
        schema.drop()
    forget_views()


@pytest.fixture
def engine(database_url):
    return engine_for(database_url)


@pytest.fixture
def loaded_engine(engine, catalog_dict):
    load_catalog(engine, parse_catalog(copy.deepcopy(catalog_dict)))
    return engine


@pytest.fixture(scope="module")
def sqlite_catalog_url(tmp_path_factory, catalog_dict):
    """A SQLite catalog loaded once for a module's read-only tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'catalog.db'}"
    load_catalog(engine_for(url), parse_catalog(copy.deepcopy(catalog_dict)))
    yield url
    engine_for(url).dispose()
    forget_views()


@pytest.fixture(scope="module")
def slack():
    """A stand-in for Slack's Web API, one per test module (`tests/slack_standin.py`)."""
    stand_in = SlackStandIn(SLACK_TOKEN)
    yield stand_in
    stand_in.close()
