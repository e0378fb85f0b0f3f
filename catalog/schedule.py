"""The daily catalog sync `make run` starts when course-discovery is configured (DISCOVERY_*).

APScheduler runs one sync at start-up and then every DISCOVERY_SYNC_HOURS (one at a time; a run that
falls due while one is still going is skipped). Each run's outcome goes to the support Slack channel
when Slack is configured: the changes it loaded, or why it failed and that nothing was changed. A run
that changed nothing posts nothing. The API client retries network errors with back-off itself.

    python -m catalog.schedule          # run until stopped
    python -m catalog.schedule --once   # one sync, then exit (what the scheduler runs)
"""

import argparse
import logging
import sys
from datetime import datetime, timezone
from typing import Callable, Optional

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import SQLAlchemyError

from catalog.discovery import DiscoveryClient, DiscoveryConfig, DiscoveryError
from catalog.file import CatalogFileError
from catalog.sync import SyncResult, sync
from core import settings
from core.db import engine_for
from core.slack_text import for_slack
from core.support_desk import SlackUnavailable, post_message

logger = logging.getLogger("catalog-sync")


def slack_notice(text: str) -> None:
    """Post `text` (catalog and API text, escaped for Slack) to the support channel, if there is one."""
    channel = settings.slack_support_channel()
    if not (settings.slack_bot_token() and channel):
        return
    try:
        post_message(channel, for_slack(text))
    except SlackUnavailable as error:
        logger.warning("could not post the sync's outcome to Slack: %s", error)


def run_once(notify: Callable[[str], None] = slack_notice) -> Optional[SyncResult]:
    """One sync; its outcome logged and, if it changed something or failed, sent to `notify`."""
    try:
        with DiscoveryClient(DiscoveryConfig.from_settings()) as client:
            result = sync(engine_for(settings.database_url()), settings.catalog_file(), client, report=logger.info)
    except (DiscoveryError, CatalogFileError, SQLAlchemyError) as error:
        text = f"course-discovery sync failed at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, nothing was " \
               f"changed: {error}"
        logger.error(text)
        notify(text)
        return None
    if result.changes:
        notify(result.summary())
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="catalog-sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="one sync, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.once:
        return 0 if run_once() is not None else 3
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(run_once, "interval", hours=settings.discovery_sync_hours(), max_instances=1,
                      coalesce=True, next_run_time=datetime.now(timezone.utc))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
