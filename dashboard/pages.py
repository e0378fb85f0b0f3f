"""The dashboard's HTML: the signed-in page (a frame that static/dashboard.js fills from /api/report) and
the page that asks a visitor to sign in. Neither contains learner text; every value is escaped."""

from html import escape
from typing import Sequence

from core import settings

TABLES = {  # CSV export name -> what the link says
    "totals": "the period's numbers", "daily": "per day", "channels": "channels", "top_programs": "top programs",
    "top_topics": "top topics", "unanswered": "unanswered questions", "stale_facts": "stale facts",
}


def _head(title: str, extra: str = "") -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<link rel="icon" href="data:,">\n'
        f"{extra}<title>{escape(title)}</title>\n"
        '<link rel="stylesheet" href="/static/dashboard.css">\n'
    )


def _csv(name: str) -> str:
    return f'<a class="csv" data-csv="{name}" href="/export/{name}.csv" download>CSV: {escape(TABLES[name])}</a>'


def _chart(name: str, caption: str) -> str:
    return (f'<figure class="chart"><figcaption id="cap-{name}">{escape(caption)}</figcaption>'
            f'<div class="chart-box"><canvas data-chart="{name}" role="img" aria-labelledby="cap-{name}">'
            "</canvas></div></figure>")


def dashboard_page(user: str, csrf: str, intents: Sequence[str]) -> str:
    meta = (f'<meta name="csrf-token" content="{escape(csrf)}">\n'
            f'<meta name="review-intents" content="{escape(" ".join(intents))}">\n'
            '<script src="/static/chart.umd.js" defer></script>\n'
            '<script src="/static/dashboard.js" defer></script>\n')
    return _head("Learner support dashboard", meta) + f"""</head>
<body>
<a class="skip" href="#main">Skip to the numbers</a>
<header class="top">
  <div class="title">
    <h1>Learner support dashboard</h1>
    <p class="who">Signed in as <span id="user">{escape(user)}</span>
      <button type="button" id="sign-out" class="link-button">Sign out</button></p>
  </div>
  <form id="period" class="period" novalidate>
    <label>From <input type="date" id="start" name="start" required></label>
    <label>To <input type="date" id="end" name="end" required></label>
    <button type="submit">Show</button>
  </form>
</header>
<p id="status" class="status" role="status" aria-live="polite">Loading…</p>
<main id="main" tabindex="-1">
<section aria-labelledby="h-numbers">
  <h2 id="h-numbers">The period in numbers <span id="period-label" class="quiet"></span></h2>
  <div id="tiles" class="tiles"></div>
  <p class="downloads">{_csv("totals")} {_csv("daily")} {_csv("channels")}</p>
</section>
<section aria-labelledby="h-charts">
  <h2 id="h-charts">Per day, channels, programs and topics</h2>
  <div class="charts">
    {_chart("daily", "Conversations and learner messages per day")}
    {_chart("containment", "Containment per day (% of conversations without a handoff)")}
    {_chart("channels", "Learner messages by channel")}
    {_chart("top_programs", "Top programs (answers given)")}
    {_chart("top_topics", "Top topics (answers given)")}
  </div>
  <p class="downloads">{_csv("top_programs")} {_csv("top_topics")}</p>
</section>
<section aria-labelledby="h-unanswered">
  <h2 id="h-unanswered">Unanswered questions <span id="unanswered-count" class="quiet"></span></h2>
  <p class="explain">Out of scope with no catalog answer, not understood, or rated 👎; similar ones grouped,
    the commonest first. Label each message: the intent it should have had (exported for training with
    <code>make review-export</code>), “needs a new FAQ answer”, or “ignore”. A labelled message leaves the list.</p>
  <ol id="unanswered" class="groups"></ol>
  <p class="downloads">{_csv("unanswered")}</p>
</section>
<section aria-labelledby="h-stale">
  <h2 id="h-stale">Stale facts: update these first</h2>
  <p class="explain">Catalog facts behind the answers given in the period, the most served and oldest first
    (priority = times served × years old; undated facts at the top).</p>
  <div class="table-scroll">
    <table id="stale-facts">
      <thead><tr><th scope="col">Program</th><th scope="col">Topic</th><th scope="col">Served</th>
        <th scope="col">As of</th><th scope="col">Age (years)</th><th scope="col">Priority</th>
        <th scope="col">Sources</th></tr></thead>
      <tbody></tbody>
    </table>
  </div>
  <p class="downloads">{_csv("stale_facts")}</p>
</section>
</main>
</body>
</html>
"""


def sign_in_page(problem: str) -> str:
    minutes = f"{settings.dashboard_link_minutes():g}"
    return _head("Sign in: learner support dashboard") + f"""</head>
<body>
<main id="main" class="signed-out">
  <h1>Learner support dashboard</h1>
  <p class="problem">{escape(problem)}</p>
  <p>To sign in, type <code>/assistant dashboard</code> in the support channel in Slack and open the link
    it gives you (it works for {escape(minutes)} minutes).</p>
</main>
</body>
</html>
"""
