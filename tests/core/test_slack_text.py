import html
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from core.slack_text import ALLOWED_SCHEMES, allowed_url, for_slack, staff_text_for_widget


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark")
    # markdown-it silently refuses javascript:/data: links itself; let it accept all, so the test sees
    # every link the output spells, whatever a renderer would do with it.
    parser.validateLink = lambda url: True
    return parser


def _inline_tokens(markdown: str):
    for token in _parser().parse(markdown):
        yield token
        for child in token.children or []:
            yield child
            yield from child.children or []


def _links(markdown: str):
    """(href, text) of every link in the Markdown."""
    found, href, text = [], None, []
    for token in _inline_tokens(markdown):
        if token.type == "link_open":
            href, text = token.attrGet("href"), []
        elif token.type == "text" and href is not None:
            text.append(token.content)
        elif token.type == "link_close":
            found.append((href, "".join(text)))
            href = None
    return found


def _assert_safe(markdown: str) -> None:
    for token in _inline_tokens(markdown):
        assert token.type not in ("image", "html_inline", "html_block"), (markdown, token)
        if token.type == "link_open":
            assert urlsplit(str(token.attrGet("href"))).scheme in ALLOWED_SCHEMES, markdown


def _as_text(markdown: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", MarkdownIt().render(markdown))).strip()


# --- learner text into Slack ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["<!channel>", "<!here>", "<@U123>", "<https://evil.example|Reset your password>"])
def test_for_slack_makes_mentions_and_links_literal(text):
    escaped = for_slack(text)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_for_slack_escapes_ampersand_exactly_once():
    assert for_slack("fish & chips") == "fish &amp; chips"
    assert for_slack("&amp; &lt;") == "&amp;amp; &amp;lt;"
    assert for_slack("*bold* _it_ ~s~ `code`") == "*bold* _it_ ~s~ `code`"  # only what Slack asks


@given(st.text())
def test_for_slack_round_trips(text):
    escaped = for_slack(text)
    assert "<" not in escaped and ">" not in escaped
    assert re.sub(r"&(amp|lt|gt);", lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], escaped) == text


# --- staff text into the web widget --------------------------------------------------------------------

BYPASSES = [
    "[x](javascript:alert(1))",
    "[[x]](javascript:alert(1))",
    "[a\\]b](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](  javascript:alert(1))",
    "[a](<javascript:alert(1)>)",
    "[a](java&#x09;script:alert(1))",
    "[a](jav\tascript:alert(1))",
    "[a](vbscript:msgbox(1)) [b](file:///etc/passwd) [c](/relative) [d](//evil.example)",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)|click>",
    "<javascript:alert(1)>",
    "< javascript:alert(1)|x> <jav\tascript:alert(1)|y> <java&amp;#x09;script:alert(1)|z>",
    "![img](javascript:alert(1))",
    "![img](https://example.org/pixel.png)",
    '<a href="javascript:alert(1)">x</a>',
    '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt; &lt;img src=x onerror=alert(1)&gt;',
    "&lt;javascript:alert(1)&gt;",
    "[ok](https://example.org/a_(b))",
    "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<data:text/html,<script>alert(1)</script>|d>",
    "[a](https://ok.example) [b](javascript:alert(1))",
]


@pytest.mark.parametrize("text", BYPASSES)
def test_no_link_to_a_scheme_outside_the_allow_list(text):
    _assert_safe(staff_text_for_widget(text))


@pytest.mark.parametrize(
    "text, label",
    [
        ("[x](javascript:alert(1))", "x"),
        ("<javascript:alert(1)|click>", "click"),
        ("[a](JaVaScRiPt:alert(1))", "a"),
        ("![img](javascript:alert(1))", "img"),
        ("[a][r]\n\n[r]: javascript:alert(1)", "a"),
        ("<javascript:alert(1)>", ""),
    ],
)
def test_a_refused_link_keeps_only_its_label(text, label):
    output = staff_text_for_widget(text)
    assert _links(output) == []
    assert _as_text(output) == label


def test_slack_link_becomes_a_markdown_link():
    output = staff_text_for_widget("See <https://support.edx.org|the help centre> <@U123>")
    assert "[the help centre](https://support.edx.org)" in output
    assert _links(output) == [("https://support.edx.org", "the help centre")]


def test_mailto_and_bare_links_stay_links():
    assert _links(staff_text_for_widget("<mailto:help@example.org|mail us>")) == [
        ("mailto:help@example.org", "mail us")
    ]
    assert _links(staff_text_for_widget("<https://example.org/x>")) == [
        ("https://example.org/x", "https://example.org/x")
    ]


def test_markdown_link_typed_in_slack_stays_a_link():
    # Slack links the address the staff member typed: `[guide](https://...)` arrives as below.
    output = staff_text_for_widget("[guide](<https://example.org/?a=1&amp;b=2>)")
    assert _links(output) == [("https://example.org/?a=1&b=2", "guide")]


def test_address_cannot_break_out_of_its_link():
    output = staff_text_for_widget("[ok](https://example.org/a_(b))")
    assert _links(output) == [("https://example.org/a_%28b%29", "ok")]
    output = staff_text_for_widget("<https://example.org/a b)](javascript:alert(1)|label>")
    _assert_safe(output)
    assert [text for _, text in _links(output)] == ["label"]


def test_slack_escapes_become_literal_characters():
    output = staff_text_for_widget("5 &lt; 6 &amp;&amp; 7 &gt; 3")
    assert _as_text(output) == "5 < 6 && 7 > 3"


def test_mentions():
    assert _as_text(staff_text_for_widget("Hi <@U123|maria>, <@U999> is off")) == "Hi @maria,  is off"
    assert staff_text_for_widget("<!here> we are back") == "we are back"
    assert _as_text(staff_text_for_widget("Ask <#C123|help-desk> or <!subteam^S1|@tutors>")) == (
        "Ask #help-desk or @tutors"
    )
    assert _as_text(staff_text_for_widget("From <!date^1392734382^{date_short}|Feb 18, 2014>")) == (
        "From Feb 18, 2014"
    )


def test_markup_is_shown_as_text_and_line_breaks_are_kept():
    output = staff_text_for_widget("*bold* _it_ `x &lt; y`\nnext line\n\nnew paragraph")
    assert _as_text(output) == "bold it x < y\nnext line\nnew paragraph"
    assert "next line\n\nnew paragraph" in output
    assert _as_text(staff_text_for_widget("```\nif a &lt; b &amp;&amp; c:\n```")) == "if a < b && c:"
    assert _as_text(staff_text_for_widget("a &amp;#106; &amp;lt;b&amp;gt;")) == "a &#106; &lt;b&gt;"


def test_allowed_url():
    assert allowed_url("HTTPS://example.org/a b") == "https://example.org/a%20b"
    for href in ["javascript:alert(1)", " javascript:alert(1)", "jav\tascript:x", "data:,x", "/x", "", "http://[x"]:
        assert allowed_url(href) is None


FRAGMENTS = [
    "javascript:", "JaVaScRiPt:", "java&#x09;script:", "jav\tascript:", "data:text/html,", "vbscript:",
    "https://ok.example", "mailto:a@b.c", "alert(1)", "[", "]", "(", ")", "<", ">", "|", ":", "!", "\\",
    "&", "&amp;", "&lt;", "&gt;", "&#x6a;", "<!here>", "<@U1|x>", "\n", "\n\n", "[r]: ", "`", "*", "_", " ",
]


@given(st.lists(st.one_of(st.text(max_size=8), st.sampled_from(FRAGMENTS)), max_size=30).map("".join))
def test_no_unsafe_link_for_any_text(text):
    _assert_safe(staff_text_for_widget(text))
