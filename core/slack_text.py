"""Text crossing between learners and the support staff's Slack, made safe in both directions.

Learner -> Slack: Slack treats only `&`, `<` and `>` as control characters, so escaping those three (as
Slack's formatting guide asks) is enough to stop `<!channel>`, `<@U123>` or `<https://evil|Reset>` from
pinging anyone or making a link.

Slack -> web widget: the widget renders bot text as Markdown and does not sanitise link addresses, so a
staff message must never reach it with a link to anything but http, https or mail. Slack's `<...>`
entities are resolved first, then the text is parsed with a real CommonMark parser and the output is
REBUILT from its tokens: every piece of text is escaped and the only markup written back is
`[label](url)` for a URL whose scheme is on the allow-list. Markup we did not write ourselves
(raw HTML, images, reference definitions, odd nesting) therefore cannot survive, however it was spelt.
"""

import re
from typing import List, Optional
from urllib.parse import quote, urlsplit, urlunsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

_SLACK_ESCAPES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_SLACK_ENTITY = re.compile(r"<([^<>]*)>|[<>]")
# Characters a URL keeps as they are; everything else (spaces, parentheses, <>, quotes, backslashes,
# control and non-ASCII characters) is percent-encoded, so the address cannot end its link early.
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"
# Only what can open a link, an image, code or emphasis is backslash-escaped (`!` and `(` matter only
# after a `[`, which is escaped); the rest could at most make a list or a heading, so staff replies read
# as typed.
_BACKSLASHED = frozenset("\\`*_[]")
# `&`, `<` and `>` are written as entities rather than backslash-escaped: the widget's Markdown parser
# (remark in GFM mode) shows `\<` and `\&` with the backslash, while both it and CommonMark decode these.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

_parser = MarkdownIt("commonmark")
# Accept every address while parsing: the allow-list below decides, not markdown-it's own deny-list.
_parser.validateLink = lambda url: True


def for_slack(text: str) -> str:
    """Learner text made literal inside a Slack mrkdwn message: `&`, `<`, `>` become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def staff_text_for_widget(text: str) -> str:
    """A staff member's Slack message as safe Markdown for the web chat widget (see the module doc)."""
    markdown = _SLACK_ENTITY.sub(_from_slack_entity, text)
    blocks: List[str] = []
    for token in _parser.parse(markdown):
        if token.type == "inline":
            blocks.append(_rebuild(token.children or []))
        elif token.type in ("fence", "code_block", "html_block"):
            blocks.append("\n".join(_escape(_unslack(line.strip())) for line in token.content.splitlines()))
    return "\n\n".join(block.strip() for block in blocks if block.strip())


def allowed_url(href: str) -> Optional[str]:
    """The address, re-assembled and percent-encoded, if its scheme is http, https or mailto; else None.

    An allow-list, never a deny-list: urllib decides the scheme (it drops tabs and newlines and leading
    control characters as browsers do, and lower-cases the scheme), so `JaVaScRiPt:`, ` javascript:`
    or `jav<TAB>ascript:` are all just "not allowed", as are relative and schemeless addresses.
    """
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    if parts.scheme not in ALLOWED_SCHEMES:
        return None
    return quote(urlunsplit(parts), safe=_URL_SAFE)


def _unslack(text: str) -> str:
    return re.sub(r"&(?:amp|lt|gt);", lambda m: _SLACK_ESCAPES[m.group(0)], text)


def _escape(text: str) -> str:
    """Text that Markdown shows exactly as written: no emphasis, links, HTML or entities."""
    return "".join(_ENTITIES.get(c) or (f"\\{c}" if c in _BACKSLASHED else c) for c in text)


def _from_slack_entity(match: "re.Match[str]") -> str:
    """One Slack `<target|label>` entity (Slack's grammar) as CommonMark for the parser to read next.

    Users and channels become `@label` / `#label`, special mentions (`<!here>`, `<!date^...|fallback>`,
    `<!subteam^ID|@team>`) their label; without a label they are dropped. A link is kept only if allowed.
    """
    if match.group(1) is None:  # a lone < or > that starts no entity
        return _ENTITIES[match.group(0)]
    target, _, label = match.group(1).partition("|")
    label = _unslack(label)
    if target.startswith(("@", "#")):
        return _escape(target[0] + label) if label else ""
    if target.startswith("!"):
        return _escape(label)
    url = allowed_url(_unslack(target))
    if url is None:
        return _escape(label)
    # `<url>` is an autolink, or a link destination when staff typed `[label](url)` and Slack linked the url.
    return f"[{_escape(label)}](<{url}>)" if label else f"<{url}>"


def _rebuild(tokens: List[Token], in_link: bool = False) -> str:
    """Markdown rebuilt from inline tokens: escaped text, plus links whose scheme is allowed."""
    out: List[str] = []
    hrefs: List[Optional[str]] = []
    parts: List[List[str]] = [out]
    for token in tokens:
        if token.type == "link_open":
            hrefs.append(allowed_url(str(token.attrGet("href") or "")))
            parts.append([])
        elif token.type == "link_close" and hrefs:
            label, url = "".join(parts.pop()), hrefs.pop()
            if url and not (in_link or hrefs):  # links never nest
                label = label or _escape(url)
                label = f"[{label}]({url.replace('&', '&amp;')})"
            parts[-1].append(label)
        elif token.type == "image":  # never an image: its description only, as text
            parts[-1].append(_rebuild(token.children or [], in_link=True))
        elif token.type in ("softbreak", "hardbreak"):
            parts[-1].append("\n")
        elif token.type == "text":
            parts[-1].append(_escape(token.content))
        elif token.type in ("code_inline", "html_inline"):  # CommonMark leaves Slack's &lt; as is here
            parts[-1].append(_escape(_unslack(token.content)))
    return "".join(out)
