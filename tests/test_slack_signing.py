"""Slack request signing and the text of staff replies, as plain functions."""

import hashlib
import hmac

from channels.slack import signature_is_valid, staff_text_for_learner

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BODY = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather"
STAMP = "1531420618"


def signature(secret=SECRET, stamp=STAMP, body=BODY):
    return "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()


def test_a_correct_signature_within_five_minutes_is_valid():
    assert signature_is_valid(SECRET, STAMP, BODY, signature(), now=int(STAMP) + 299)


def test_wrong_secret_body_or_stale_timestamp_is_refused():
    assert not signature_is_valid(SECRET, STAMP, BODY, signature(secret="other"), now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY + b"x", signature(), now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY, signature(), now=int(STAMP) + 301)
    assert not signature_is_valid(SECRET, STAMP, BODY, signature(), now=int(STAMP) - 301)
    assert not signature_is_valid(SECRET, "not-a-number", BODY, signature(), now=int(STAMP))
    assert not signature_is_valid("", STAMP, BODY, signature(), now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY, "", now=int(STAMP))


def test_staff_text_becomes_plain_safe_text():
    assert staff_text_for_learner("See <https://support.edx.org|the help centre> <@U123>") == \
        "See the help centre (https://support.edx.org)"
    assert staff_text_for_learner("<https://example.org/x>") == "https://example.org/x"
    assert staff_text_for_learner("[click](javascript:alert(1)) now") == "click now"
    assert staff_text_for_learner("5 &lt; 6 &amp; <!here> ok") == "5 < 6 &  ok"
