"""The weekly digest: the week's numbers, the ten commonest unanswered questions and a chart, in the
support team's Slack channel.

Once a week, after DIGEST_WEEKDAY at DIGEST_HOUR (UTC), the analytics feed (`post_weekly`) posts the
digest of the seven UTC days before that day: one message in SLACK_SUPPORT_CHANNEL, the chart (a PNG)
with the text as its comment. A week is posted once however many feeds run and however often they
restart: the poster inserts the week's `DigestPosted` row and commits it only once Slack has the digest,
in the same transaction, so a second poster waits on that row, then finds it and skips; a post that
fails leaves the week unclaimed, and the next check (every CHECK_SECONDS) tries again. (Only a crash
between Slack's answer and the commit can post a week twice.)

    python -m analytics.digest --now    # post the last seven days (today included) now: `make digest`

`--now` does not claim the week: the scheduled digest still comes.
"""

import argparse
import asyncio
import io
import logging
import sys
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, List, Optional, Sequence, Tuple

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from analytics import report as reports
from analytics import store
from analytics.metrics import Period
from analytics.store import DigestPosted
from core import settings, support_desk
from core.db import engine_for, session_scope
from core.slack_text import for_slack
from core.support_desk import SlackUnavailable

logger = logging.getLogger("analytics.digest")

CHECK_SECONDS = 60.0  # how often post_weekly looks whether a digest is due
REFUSED_RETRY_SECONDS = 3600.0  # after Slack refused for good (token, channel, scope): wait longer
UNANSWERED_SHOWN = 10
TOP_SHOWN = 5
QUESTION_CHARS = 200  # a learner's question is cut to this in the digest
NO_DATA = "no data"


# --- the text and the chart -------------------------------------------------------------------------

def percent(value: Optional[float]) -> str:
    """0.6667 -> '66.7%', 1.0 -> '100%'; None (nothing to divide by) -> 'no data', never '0%'."""
    if value is None:
        return NO_DATA
    return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"


def duration(ms: Optional[float]) -> str:
    if ms is None:
        return NO_DATA
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def period_label(period: Period) -> str:
    return f"{period.start:%a %Y-%m-%d} to {period.end:%a %Y-%m-%d}"


def _question(text: str) -> str:
    """A learner's text on one line, cut, and escaped so it cannot mention anyone or make a link."""
    text = " ".join(text.split()) or "(empty message)"
    if len(text) > QUESTION_CHARS:
        text = text[:QUESTION_CHARS - 1].rstrip() + "…"
    return for_slack(text)


def _listing(items: Sequence[Tuple[str, int]]) -> str:
    return ", ".join(f"{for_slack(name)} ({count})" for name, count in items[:TOP_SHOWN]) or "none"


def compose_text(report: reports.Report) -> str:
    """The digest as Slack mrkdwn. Learner text is escaped (core.slack_text.for_slack)."""
    totals = report.totals
    lines = [
        f":bar_chart: *Learner-support assistant: weekly digest, {period_label(report.period)} (UTC)*",
        f"*Conversations:* {totals.conversations}  ·  *Learner messages:* {totals.messages}",
        f"*Containment:* {percent(totals.containment)} ({totals.handed_off} handed off)  ·  "
        f"*Handoff rate:* {percent(totals.handoff_rate)}",
        f"*Fallback rate:* {percent(totals.fallback_rate)}  ·  "
        f"*Out-of-scope rate:* {percent(totals.out_of_scope_rate)}",
        f"*Feedback:* 👍 {totals.thumbs_up} / 👎 {totals.thumbs_down} "
        f"({percent(totals.thumbs_up_rate)} 👍)  ·  *Median reply time:* {duration(totals.median_reply_ms)}",
        f"*Top programs:* {_listing([(name, count) for _, name, count in report.top_programs])}",
        f"*Top topics:* {_listing(report.top_topics)}",
        "",
        f"*The {UNANSWERED_SHOWN} commonest unanswered questions:*",
    ]
    if report.unanswered:
        for number, group in enumerate(report.unanswered[:UNANSWERED_SHOWN], 1):
            reasons = ", ".join(group.reasons)
            lines.append(f"{number}. “{_question(group.text)}” ×{group.count} ({reasons})")
    else:
        lines.append("_None this week._")
    lines += [
        "",
        f"<{settings.dashboard_url()}|Open the dashboard> for every number, the unanswered questions to review "
        "and the stale facts (sign-in needed: `/assistant dashboard` in this channel gives you a link).",
    ]
    return "\n".join(lines)


def chart_png(report: reports.Report) -> bytes:
    """Conversations and learner messages per day (bars) with containment (line, right axis), as a PNG.
    Drawn with matplotlib's Agg canvas directly: no display, no pyplot state shared between threads."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    days = [date.fromisoformat(day) for day, _ in report.daily]
    conversations = [numbers.conversations for _, numbers in report.daily]
    messages = [numbers.messages for _, numbers in report.daily]
    containment = [float("nan") if numbers.containment is None else numbers.containment * 100
                   for _, numbers in report.daily]
    positions = list(range(len(days)))
    width = 0.38

    figure = Figure(figsize=(10, 5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for offset, values, label, color in ((-width / 2, conversations, "conversations", "#1f77b4"),
                                         (width / 2, messages, "learner messages", "#9ecae1")):
        bars = axes.bar([p + offset for p in positions], values, width, label=label, color=color)
        axes.bar_label(bars, labels=[str(v) if v else "" for v in values], padding=2, fontsize=9)
    axes.set_xticks(positions, [f"{day:%a}\n{day:%m-%d}" for day in days])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([*conversations, *messages, 1]) * 1.15)
    axes.set_ylabel("per day")
    axes.grid(axis="y", alpha=0.3)
    if not any(messages):
        axes.text(0.5, 0.5, "no learner messages in this period", transform=axes.transAxes, ha="center",
                  va="center", fontsize=14, color="#666666")

    share = axes.twinx()
    share.plot(positions, containment, color="#2ca02c", marker="o", linewidth=2, label="containment (right axis)")
    share.set_ylim(0, 110)
    share.set_yticks([0, 25, 50, 75, 100])
    share.yaxis.set_major_formatter(PercentFormatter(100))
    share.set_ylabel("containment (no handoff)")

    handles = axes.get_legend_handles_labels()[0] + share.get_legend_handles_labels()[0]
    figure.legend(handles, [h.get_label() for h in handles], loc="outside lower center", ncols=3, frameon=False)
    axes.set_title(f"Conversations, messages and containment per day, {period_label(report.period)} (UTC)")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def compose(report: reports.Report) -> Tuple[str, bytes]:
    """The digest of a report: (Slack mrkdwn text, PNG chart)."""
    return compose_text(report), chart_png(report)


# --- posting -----------------------------------------------------------------------------------------

def _send(text: str, png: bytes, period: Period) -> None:
    """The digest in the support channel: the chart with the text as its comment. If Slack refuses the
    file for good (e.g. the app lacks `files:write`), the text goes alone, saying why."""
    if not settings.handoff_enabled():
        raise SlackUnavailable("Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SUPPORT_CHANNEL",
                               permanent=True)
    channel = settings.slack_support_channel()
    try:
        support_desk.upload_file(channel, f"digest-{period.start}-{period.end}.png", png,
                                 title=f"Conversations per day, {period.start} to {period.end}",
                                 initial_comment=text)
    except SlackUnavailable as error:
        if not error.permanent:
            raise
        logger.error("Slack refused the digest's chart (%s); posting the text alone", error)
        support_desk.post_message(channel, f"{text}\n_(The chart could not be uploaded: {for_slack(str(error))}.)_")


def post_digest(analytics_engine: Engine, catalog_engine: Engine, period: Period) -> None:
    """Post the digest of a period to the support channel now (no claim: see `post_if_due`).
    Raises SlackUnavailable if Slack is not configured or does not take it."""
    text, png = compose(reports.build(analytics_engine, catalog_engine, period))
    _send(text, png, period)


# --- once a week -------------------------------------------------------------------------------------

def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _schedule() -> Tuple[int, int]:
    weekday, hour = settings.digest_weekday(), settings.digest_hour()
    if not 0 <= weekday <= 6:
        raise ValueError(f"DIGEST_WEEKDAY is {weekday}: it must be 0 (Monday) to 6 (Sunday)")
    if not 0 <= hour <= 23:
        raise ValueError(f"DIGEST_HOUR is {hour}: it must be 0 to 23 (UTC)")
    return weekday, hour


def due_week(now: datetime) -> Optional[str]:
    """The week (its Monday, YYYY-MM-DD) whose digest is due at `now`, or None before this week's
    DIGEST_WEEKDAY at DIGEST_HOUR (UTC). A naive `now` is taken as UTC."""
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    weekday, hour = _schedule()
    monday = now.date() - timedelta(days=now.weekday())
    moment = datetime.combine(monday + timedelta(days=weekday), time(hour), tzinfo=timezone.utc)
    return monday.isoformat() if now >= moment else None


def week_period(week: str) -> Period:
    """The seven UTC days before the week's digest day."""
    day = date.fromisoformat(week) + timedelta(days=_schedule()[0])
    return Period(day - timedelta(days=7), day - timedelta(days=1))


def is_posted(engine: Engine, week: str) -> bool:
    with session_scope(engine) as session:
        return session.get(DigestPosted, week) is not None


def claim_and_post(engine: Engine, week: str, post: Callable[[], None]) -> bool:
    """Insert the week's row, run `post`, commit only if it succeeded. False if another poster has the
    week (its row is committed, or SQLite stayed locked by a poster still at work); `post`'s error (the
    row rolled back) otherwise."""
    session = Session(engine, future=True)
    try:
        session.add(DigestPosted(week=week, posted_at=utc_now()))
        try:
            session.flush()  # PostgreSQL: a concurrent claimer waits here for our commit or rollback
        except IntegrityError:
            session.rollback()
            return False
        except OperationalError as error:
            if "locked" not in str(error.orig):
                raise
            session.rollback()
            logger.info("the digest of week %s is being posted by another process", week)
            return False
        post()
        session.commit()
        return True
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def post_if_due(analytics_engine: Engine, catalog_engine: Optional[Engine] = None,
                now: Optional[datetime] = None) -> Optional[str]:
    """One check: post the due week's digest unless it is posted. Returns the week posted, or None."""
    week = due_week(now or utc_now())
    if week is None or is_posted(analytics_engine, week):
        return None
    period = week_period(week)
    catalog_engine = catalog_engine or engine_for(settings.database_url())
    text, png = compose(reports.build(analytics_engine, catalog_engine, period))
    if not claim_and_post(analytics_engine, week, lambda: _send(text, png, period)):
        return None
    logger.info("posted the digest of %s to %s", period_label(period), settings.slack_support_channel())
    return week


async def post_weekly(engine: Engine) -> None:
    """Forever: every CHECK_SECONDS, post the week's digest once it is due (see the module doc)."""
    logger.info("the weekly digest goes to %s on weekday %s at %02d:00 UTC", settings.slack_support_channel(),
                settings.digest_weekday(), settings.digest_hour())
    while True:
        wait = CHECK_SECONDS
        try:
            await asyncio.to_thread(post_if_due, engine)
        except SlackUnavailable as error:
            if error.permanent:
                wait = REFUSED_RETRY_SECONDS
                logger.critical("Slack refuses the weekly digest (%s): check SLACK_BOT_TOKEN, SLACK_SUPPORT_CHANNEL, "
                                "the app's membership of the channel and its files:write scope; retrying in %s s",
                                error, wait)
            else:
                logger.warning("Slack did not take the weekly digest (%s); retrying in %s s", error, wait)
        except Exception:  # a database that is down, a bad setting: say so, try again
            logger.exception("the weekly digest failed; retrying in %s s", wait)
        await asyncio.sleep(wait)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.digest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--now", action="store_true", required=True,
                        help="post the digest of the last seven days (today included) now")
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not settings.handoff_enabled():
        print("error: Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SUPPORT_CHANNEL in the environment "
              "to post the digest", file=sys.stderr)
        return 1
    period = Period.last_days(7, utc_now().date())
    try:
        post_digest(store.analytics_engine(), engine_for(settings.database_url()), period)
    except SlackUnavailable as error:
        print(f"error: Slack did not take the digest: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"error: could not read the analytics or catalog database ({type(error).__name__}: {error}); "
              "is the catalog loaded (make catalog)?", file=sys.stderr)
        return 1
    print(f"posted the digest of {period_label(period)} to {settings.slack_support_channel()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
