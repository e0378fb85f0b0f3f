"""Fixtures of the end-to-end tests, which start the real servers (and a browser): every test here is
marked `e2e`, which `make test-fast` leaves out."""

import pytest

from tests.e2e.browser import Browser


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    opened = []

    def launch(viewport, locale=None):
        opened.append(Browser(playwright, tmp_path / f"profile-{len(opened)}", viewport, locale))
        return opened[-1]

    with sync_playwright() as playwright:
        yield launch
        for each in opened:
            each.close()
