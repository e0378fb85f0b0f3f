"""Links written for each channel, with catalog text that tries to break out of its link."""

from actions.links import markdown_link, plain_link, slack_link, style_for_channel


def test_each_channel_gets_its_own_link_markup():
    assert style_for_channel("socketio") is markdown_link
    assert style_for_channel("slack") is slack_link
    assert style_for_channel("rest") is plain_link
    assert style_for_channel(None) is plain_link


def test_markdown_label_and_address_cannot_break_out():
    link = markdown_link("FAQ](javascript:alert(1)) [x", "https://example.edu/a b)(c")
    assert link == r"[FAQ\]\(javascript:alert\(1\)\) \[x](https://example.edu/a%20b%29%28c)"


def test_slack_label_is_escaped_and_cannot_mention_or_relink():
    link = slack_link("<!channel> & <https://evil.example|x>", "https://example.edu/faq?a=1&b=2|x>")
    assert link == "<https://example.edu/faq?a=1&b=2%7Cx%3E|&lt;!channel&gt; &amp; &lt;https://evil.example¦x&gt;>"


def test_plain_link_is_the_bare_address():
    assert plain_link("MIT SCM FAQ", "https://micromasters.mit.edu/scm/") == "MIT SCM FAQ: https://micromasters.mit.edu/scm/"
