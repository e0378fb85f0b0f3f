"""Everything the dashboard shows for a period, as plain data: the JSON the dashboard's page draws, the
CSV files staff download, and the weekly digest all come from `build()` and `tables()`.

Learner text is in it (unanswered messages): only signed-in staff and the support channel see it.
"""

from dataclasses import dataclass
from datetime import date
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy.engine import Engine

from analytics import facts, metrics
from catalog.view import current_view
from core import refusals
from core.db import session_scope

Table = Tuple[List[str], List[list]]


@dataclass
class Report:
    period: metrics.Period
    totals: metrics.Numbers
    daily: List[Tuple[str, metrics.Numbers]]  # every day of the period, in order (empty days included)
    top_programs: List[Tuple[str, str, int]]  # (program id, name, answers)
    top_topics: List[Tuple[str, int]]
    unanswered: List[metrics.UnansweredGroup]
    stale_facts: List[facts.ServedFact]

    def as_dict(self) -> Dict:
        return {
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "totals": self.totals.as_dict(),
            "daily": [{"day": day, **numbers.as_dict()} for day, numbers in self.daily],
            "top_programs": [{"program_id": pid, "program": name, "answers": count}
                             for pid, name, count in self.top_programs],
            "top_topics": [{"topic": topic, "answers": count} for topic, count in self.top_topics],
            "unanswered": [
                {"text": group.text, "count": group.count, "reasons": list(group.reasons),
                 "last_day": group.last_day,
                 "messages": [{"event_id": m.event_id, "text": m.text, "day": m.day, "reason": m.reason,
                               "comment": m.comment} for m in group.messages]}
                for group in self.unanswered],
            "stale_facts": [
                {"program_id": f.program_id, "program": f.program, "topic": f.topic, "served": f.served,
                 "as_of": f.as_of, "age_years": f.age_years, "priority": f.priority,
                 "sources": [{"title": title, "url": url} for title, url in f.sources]}
                for f in self.stale_facts],
        }


def build(analytics: Engine, catalog: Engine, period: metrics.Period, today: Optional[date] = None,
          limit: int = 20) -> Report:
    events = metrics.period_events(analytics, period)
    totals, by_day = metrics.numbers(events)
    for day, channels in refusals.per_day(period.start.isoformat(), period.end.isoformat(), catalog).items():
        by_day.setdefault(day, metrics.Numbers()).rate_limited = sum(channels.values())
        totals.rate_limited += sum(channels.values())
    with session_scope(catalog) as session:
        names = {pid: program.title for pid, program in current_view(session).programs.items()}
    unanswered = metrics.grouped(metrics.unanswered_messages(events, metrics.reviewed_ids(analytics)))
    return Report(
        period=period,
        totals=totals,
        daily=[(day, by_day.get(day) or metrics.Numbers()) for day in period.days()],
        top_programs=[(pid, names.get(pid, pid), count) for pid, count in metrics.top_programs(events, limit)],
        top_topics=metrics.top_topics(events, limit),
        unanswered=unanswered[:limit * 5],
        stale_facts=facts.stale_facts(catalog, metrics.served(events), today or period.end, limit),
    )


def _rate(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.4f}"


NUMBER_COLUMNS = ["conversations", "messages", "handed_off", "containment", "handoff_rate", "fallbacks",
                  "fallback_rate", "out_of_scope", "out_of_scope_rate", "thumbs_up", "thumbs_down",
                  "thumbs_up_rate", "answers", "median_reply_ms", "rate_limited", "desk_busy"]


def _number_row(numbers: metrics.Numbers) -> list:
    values = numbers.as_dict()
    return [_rate(values[c]) if c.endswith("_rate") or c == "containment"
            else ("" if values[c] is None else values[c]) for c in NUMBER_COLUMNS]


def tables(report: Report) -> Dict[str, Table]:
    """Every table the dashboard shows, as (header, rows), for CSV export."""
    channels: Dict[str, int] = report.totals.channels
    return {
        "totals": (["start", "end", *NUMBER_COLUMNS],
                   [[report.period.start.isoformat(), report.period.end.isoformat(), *_number_row(report.totals)]]),
        "daily": (["day", *NUMBER_COLUMNS], [[day, *_number_row(numbers)] for day, numbers in report.daily]),
        "channels": (["channel", "messages"], [[name, count] for name, count in sorted(channels.items())]),
        "top_programs": (["program_id", "program", "answers"], [list(row) for row in report.top_programs]),
        "top_topics": (["topic", "answers"], [list(row) for row in report.top_topics]),
        "unanswered": (["group", "group_size", "event_id", "day", "reason", "text", "comment"],
                       [[n, group.count, m.event_id, m.day, m.reason, m.text, m.comment or ""]
                        for n, group in enumerate(report.unanswered, 1) for m in group.messages]),
        "stale_facts": (["program_id", "program", "topic", "served", "as_of", "age_years", "priority", "sources"],
                        [[f.program_id or "", f.program, f.topic, f.served, f.as_of or "not dated",
                          "" if f.age_years is None else f.age_years, "" if f.priority is None else f.priority,
                          " ".join(url for _, url in f.sources)] for f in report.stale_facts]),
    }


TABLE_NAMES: Sequence[str] = ("totals", "daily", "channels", "top_programs", "top_topics", "unanswered",
                              "stale_facts")


def csv_text(table: Table) -> str:
    """A table as CSV. A cell that a spreadsheet would run as a formula (learner text starting with =, +,
    -, @, tab or carriage return) gets a leading apostrophe, as OWASP advises for CSV files."""
    import csv
    import io

    header, rows = table
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"'{cell}" if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r")
                         else cell for cell in row])
    return out.getvalue()
