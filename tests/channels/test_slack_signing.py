"""Slack request signing, checked against Slack's own published example (a known answer), not
against a signature computed with the code's formula."""

from channels.slack import signature_is_valid

# The worked example in Slack's "Verifying requests from Slack" guide
# (https://api.slack.com/authentication/verifying-requests-from-slack, read 2026-11-28): a slash
# command request, its timestamp, the app's signing secret and the X-Slack-Signature Slack sent.
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
STAMP = "1531420618"
BODY = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
SLACKS_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slacks_published_example_is_valid_within_five_minutes():
    assert signature_is_valid(SECRET, STAMP, BODY, SLACKS_SIGNATURE, now=int(STAMP))
    assert signature_is_valid(SECRET, STAMP, BODY, SLACKS_SIGNATURE, now=int(STAMP) + 299)


def test_any_change_to_secret_body_signature_or_time_is_refused():
    assert not signature_is_valid("8f742231b10e8888abcd99yyyzzz85a6", STAMP, BODY, SLACKS_SIGNATURE, now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY.replace(b"foobar", b"foobaz"), SLACKS_SIGNATURE,
                                  now=int(STAMP))
    assert not signature_is_valid(SECRET, "1531420619", BODY, SLACKS_SIGNATURE, now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY, SLACKS_SIGNATURE[:-1] + "4", now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY, SLACKS_SIGNATURE.replace("v0=", "v1="), now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY, SLACKS_SIGNATURE, now=int(STAMP) + 301)
    assert not signature_is_valid(SECRET, STAMP, BODY, SLACKS_SIGNATURE, now=int(STAMP) - 301)
    assert not signature_is_valid(SECRET, "not-a-number", BODY, SLACKS_SIGNATURE, now=int(STAMP))
    assert not signature_is_valid("", STAMP, BODY, SLACKS_SIGNATURE, now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY, "", now=int(STAMP))


def test_a_signature_or_timestamp_with_other_characters_is_refused_not_an_error():
    """A non-ASCII signature made hmac.compare_digest raise (a 500 with a traceback)."""
    assert not signature_is_valid(SECRET, STAMP, BODY, "v0=é" + SLACKS_SIGNATURE[4:], now=int(STAMP))
    assert not signature_is_valid(SECRET, STAMP, BODY, "v0=\udcff", now=int(STAMP))
    arabic_digits = "".join(chr(0x0660 + int(digit)) for digit in STAMP)  # int() reads these as 1531420618
    assert not signature_is_valid(SECRET, arabic_digits, BODY, SLACKS_SIGNATURE, now=int(STAMP))
