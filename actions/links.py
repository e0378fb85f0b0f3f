"""How a labelled link is written on each channel: Markdown in the web widget, Slack's own
`<url|label>` in Slack, `label: url` on REST (and anywhere else, where nothing renders markup).

Labels and addresses come from the catalog, which staff edit: the label is escaped for the
channel's markup and the address percent-encoded, so neither can break out of its link.
"""

from typing import Callable, Optional
from urllib.parse import quote

LinkStyle = Callable[[str, str], str]

# RFC 3986's reserved and unreserved characters, less the ones that end a link in Markdown or Slack.
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"
_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~")


def _address(url: str) -> str:
    return quote(url, safe=_URL_SAFE)


def plain_link(label: str, url: str) -> str:
    return f"{label}: {url}"


def markdown_link(label: str, url: str) -> str:
    escaped = "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in label)
    return f"[{escaped}]({_address(url)})"


def slack_link(label: str, url: str) -> str:
    """Slack's link markup; Slack asks for &, < and > to be escaped as HTML entities."""
    escaped = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "¦")
    return f"<{_address(url)}|{escaped}>"


_BY_CHANNEL = {"socketio": markdown_link, "slack": slack_link}


def style_for_channel(channel: Optional[str]) -> LinkStyle:
    """The link style of a Rasa input channel's name ('socketio', 'slack', 'rest', ...)."""
    return _BY_CHANNEL.get(channel or "", plain_link)
