"""Malformed and forged input on every channel, against the real servers (REST, Slack, socket.io).

Whatever arrives, the Rasa server answers without a server error (status < 500), keeps running, and stores or
posts nothing for a request it refused. Every "nothing happened" check has a positive control beside it: the
same check, on a well-formed request, does see the answer, the stored event or the Slack post.
"""

import asyncio
import hashlib
import hmac
import json
import time
import uuid

import pytest
import requests
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import notices
from tests.assistant import (
    DEMO_ORIGIN,
    SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET,
    SUPPORT_CHANNEL,
    Learner,
    running_assistant_with_slack,
    train_model,
)
from tests.slack_standin import event_callback

pytestmark = pytest.mark.e2e
SECRET, TOKEN, SUPPORT, WEB_ORIGIN = SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SUPPORT_CHANNEL, DEMO_ORIGIN
QUESTION = "how much does the MITx SCM cost?"
ANSWER = "MITx Supply Chain Management: $1,350 in total"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, slack):
    train_model()
    with running_assistant_with_slack(tmp_path_factory.mktemp("malformed-assistant"), slack) as running:
        yield running


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------------------------------------------------
# REST: /webhooks/rest/webhook
# ---------------------------------------------------------------------------------------------------------


def post_rest(assistant, body: bytes, query: str = "", content_type: str = "application/json"):
    return requests.post(f"{assistant.rasa_url}/webhooks/rest/webhook{query}", data=body, timeout=60,
                         headers={"Content-Type": content_type})


def user_texts(assistant, sender: str) -> list:
    """The texts of the user events stored in a conversation (Rasa's HTTP API)."""
    response = assistant.api("GET", f"/conversations/{sender}/tracker")
    assert response.status_code == 200, response.text
    return [event.get("text") for event in response.json()["events"] if event["event"] == "user"]


def refused(response) -> bool:
    """A request the REST channel turned down: a client error, or a 200 with no reply at all."""
    return 400 <= response.status_code < 500 or (response.status_code == 200 and response.json() == [])


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def rest_bodies():
    """(name, body, sender whose conversation must stay empty if the request is refused, must be refused?)."""
    s = {name: unique(f"rest-{name}") for name in
         ("notjson", "badutf8", "deep", "deep900", "msgnum", "msglist", "msgdict", "msgnull", "msgbool",
          "nomsg", "big", "metalist", "metastr", "inputdict")}
    return [
        ("not JSON", f'{{"sender": "{s["notjson"]}", "message": "{QUESTION}"'.encode(), s["notjson"], True),
        ("invalid UTF-8", f'{{"sender": "{s["badutf8"]}", "message": "'.encode() + b"\xff\xfe\xc3(" + b'"}',
         s["badutf8"], True),
        ("5000-deep metadata",
         f'{{"sender": "{s["deep"]}", "message": "{QUESTION}", "metadata": {nested(5000)}}}'.encode(),
         s["deep"], True),
        ("900-deep metadata",
         f'{{"sender": "{s["deep900"]}", "message": "{QUESTION}", "metadata": {nested(900)}}}'.encode(),
         s["deep900"], False),
        ("message a number", json.dumps({"sender": s["msgnum"], "message": 42}).encode(), s["msgnum"], True),
        ("message a list", json.dumps({"sender": s["msglist"], "message": [QUESTION]}).encode(), s["msglist"], True),
        ("message a dict", json.dumps({"sender": s["msgdict"], "message": {"text": QUESTION}}).encode(),
         s["msgdict"], True),
        ("message null", json.dumps({"sender": s["msgnull"], "message": None}).encode(), s["msgnull"], True),
        ("message a boolean", json.dumps({"sender": s["msgbool"], "message": True}).encode(), s["msgbool"], True),
        ("no message", json.dumps({"sender": s["nomsg"]}).encode(), s["nomsg"], True),
        ("no sender", json.dumps({"message": QUESTION}).encode(), None, False),
        ("sender a dict", json.dumps({"sender": {"id": "x"}, "message": QUESTION}).encode(), None, False),
        ("sender a list", json.dumps({"sender": [1, 2], "message": QUESTION}).encode(), None, False),
        ("sender null", json.dumps({"sender": None, "message": QUESTION}).encode(), None, False),
        ("1 MB message", json.dumps({"sender": s["big"], "message": "a" * 1_000_000}).encode(), s["big"], False),
        ("metadata a list", json.dumps({"sender": s["metalist"], "message": QUESTION, "metadata": [1]}).encode(),
         s["metalist"], False),
        ("metadata a string", json.dumps({"sender": s["metastr"], "message": QUESTION, "metadata": "x"}).encode(),
         s["metastr"], False),
        ("input_channel a dict",
         json.dumps({"sender": s["inputdict"], "message": QUESTION, "input_channel": {"x": 1}}).encode(),
         s["inputdict"], False),
        ("page program a dict", json.dumps({"sender": unique("rest-pagedict"), "message": QUESTION,
                                            "metadata": {"program_id": {"x": 1}}}).encode(), None, False),
    ]


def test_rest_malformed_bodies_get_no_server_error_and_leave_no_trace(assistant):
    outcomes = []
    for name, body, sender, must_be_refused in rest_bodies():
        response = post_rest(assistant, body)
        outcomes.append((name, sender, must_be_refused, response))
    assert [(name, r.status_code) for name, _, _, r in outcomes if r.status_code >= 500] == []
    assert [name for name, _, must, r in outcomes if must and not refused(r)] == []

    # Positive control: the server still answers, and the tracker check does see a stored message.
    valid = unique("rest-valid")
    assert ANSWER in assistant.text(valid, QUESTION)
    assert user_texts(assistant, valid) == [QUESTION]

    stored = {name: user_texts(assistant, sender) for name, sender, _, r in outcomes if sender and refused(r)}
    assert stored and all(texts == [] for texts in stored.values()), stored


@pytest.mark.parametrize("name, body, query", [
    ("empty body", b"", ""),
    ("JSON list", b'[{"sender": "x", "message": "hi"}]', ""),
    ("JSON number", b"42", ""),
    ("JSON string", b'"how much does the MITx SCM cost?"', ""),
    ("JSON null", b"null", ""),
    ("JSON list, streamed", b"[1]", "?stream=true"),
])
def test_a_rest_body_that_is_not_a_json_object_is_refused_with_400(assistant, name, body, query):
    """Found by these tests: Rasa 3.6's RestInput calls `request.json.get(...)` without checking that the body
    is a JSON object, so an empty body, or JSON that is a list, number, string or null, was an HTTP 500.
    channels/rest.py checks the body first."""
    response = post_rest(assistant, body, query)
    assert response.status_code == 400, f"{name}: HTTP {response.status_code}"
    assert response.json()["error"]


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children,
                                                                                 max_size=4)),
    max_leaves=12,
)
REST_OBJECTS = st.builds(
    lambda fields, extra: {**extra, **fields},
    st.fixed_dictionaries({}, optional={
        "sender": st.one_of(st.text(max_size=20), JSON_VALUES),
        "message": st.one_of(st.sampled_from([QUESTION, "hi", "/ask_cost", '/inform_program{"program_id": 5}']),
                             st.text(max_size=60), JSON_VALUES),
        "metadata": st.one_of(st.dictionaries(st.sampled_from(["program_id", "customData"]), JSON_VALUES,
                                              max_size=2), JSON_VALUES),
        "input_channel": JSON_VALUES,
    }),
    st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=REST_OBJECTS)
def test_rest_random_json_objects_get_no_server_error(assistant, body):
    """Any JSON object (bodies that are no object at all are the known bug above)."""
    response = post_rest(assistant, json.dumps(body).encode())
    assert response.status_code < 500, (body, response.text)


def test_rest_still_answers_after_random_bodies(assistant):
    """Positive control for the property above: the same server still answers a well-formed message."""
    assert ANSWER in assistant.text(unique("rest-after"), QUESTION)


def test_a_structured_program_id_in_an_intent_payload_is_ignored(assistant):
    """Found by these tests: a learner may type Rasa's intent syntax, and `program_id` reached `answer_turn` as
    whatever JSON the learner wrote; a mapping raised TypeError in the action server. Now anything but a string
    is ignored (actions.actions.chosen_program). A string program id works (the positive control)."""
    control = assistant.text(unique("rest-payload"), '/ask_cost{"program_id": "mitx-supply-chain-management"}')
    assert ANSWER in control
    unavailable = notices.temporarily_unavailable("")[:40]
    reply = assistant.text(unique("rest-payload"), '/ask_cost{"program_id": {"x": 1}}')
    assert reply and unavailable not in reply, reply


# ---------------------------------------------------------------------------------------------------------
# Slack: /webhooks/slack/webhook
# ---------------------------------------------------------------------------------------------------------


def slack_url(assistant) -> str:
    return f"{assistant.rasa_url}/webhooks/slack/webhook"


def signed_raw(body: bytes, secret: str = SECRET, timestamp=None) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}"}


def post_slack(assistant, body: bytes, headers: dict):
    return requests.post(slack_url(assistant), data=body, headers=headers, timeout=30)


def event_id() -> str:
    return f"Ev{uuid.uuid4().hex[:10].upper()}"


def dm(channel: str, text: str = QUESTION, **changes) -> dict:
    return {"type": "message", "channel": channel, "channel_type": "im", "user": "USTAFF", "text": text,
            "ts": f"{time.time():.6f}", **changes}


def callback(event, **changes) -> bytes:
    return json.dumps({**event_callback(event, event_id()), **changes}).encode()


def send_signed(assistant, body: bytes):
    return post_slack(assistant, body, signed_raw(body))


def staff_question_is_answered(assistant, slack) -> None:
    """The positive control: a signed staff question in a DM is answered in its thread."""
    channel = unique("DCONTROL")
    event = dm(channel)
    assert send_signed(assistant, callback(event)).status_code == 200
    posted = slack.wait_for_posts(1, channel=channel, thread_ts=event["ts"])
    assert posted[0]["text"].startswith(ANSWER)


def signed_malformed_bodies():
    """Signed by the right secret, and wrong in shape."""
    user_dm = dm(unique("DMALFORMED"))
    return [
        ("not JSON", b'{"type": "event_callback", "event": '),
        ("5,000-deep JSON", nested(5000).encode()),  # found by the abuse drill: a 500 (RecursionError)
        ("empty body", b""),
        ("JSON list", b'[{"type": "event_callback"}]'),
        ("JSON number", b"7"),
        ("JSON string", b'"event_callback"'),
        ("JSON null", b"null"),
        ("no type", json.dumps({"event": user_dm, "event_id": event_id()}).encode()),
        ("type a dict", json.dumps({"type": {"x": 1}, "event": user_dm}).encode()),
        ("event a string", json.dumps({"type": "event_callback", "event_id": event_id(), "event": "x"}).encode()),
        ("event a list", json.dumps({"type": "event_callback", "event_id": event_id(), "event": [user_dm]}).encode()),
        ("event missing", json.dumps({"type": "event_callback", "event_id": event_id()}).encode()),
        ("no event_id", json.dumps({"type": "event_callback", "event": user_dm}).encode()),
        ("event_id a dict", json.dumps({"type": "event_callback", "event_id": {"x": 1}, "event": user_dm}).encode()),
        ("event_id a number", json.dumps({"type": "event_callback", "event_id": 5, "event": user_dm}).encode()),
        ("url_verification, challenge a dict",
         json.dumps({"type": "url_verification", "challenge": {"x": 1}}).encode()),
        ("event type a dict", callback(dm(unique("DTYPE"), type={"x": 1}))),
        ("text null", callback(dm(unique("DTEXTNULL"), text=None))),
        ("bot_id a dict", callback(dm(unique("DBOT"), bot_id={"x": 1}))),
        ("channel_type a list", callback(dm(unique("DCTYPE"), channel_type=["im"]))),
        ("1 MB text", callback(dm(unique("DHUGE"), text="a" * 1_000_000))),
        ("unknown event type", callback({"type": "pin_added", "user": "USTAFF", "channel_id": "C1",
                                         "event_ts": "1.0"})),
        ("unknown event type, no fields", callback({"type": "no_such_event"})),
        ("event without a type", callback({"user": "USTAFF", "text": QUESTION})),
    ]


def test_slack_signed_but_malformed_requests_get_no_server_error(assistant, slack):
    statuses = {name: send_signed(assistant, body).status_code for name, body in signed_malformed_bodies()}
    assert {name: status for name, status in statuses.items() if status >= 500} == {}
    assert statuses["not JSON"] == 400 and statuses["JSON list"] == 400
    staff_question_is_answered(assistant, slack)  # positive control: still up, still answering


def test_slack_text_is_cleaned_and_capped_and_ids_are_checked_like_the_widgets(assistant, slack):
    """A staff question with NUL and a lone surrogate is answered (the text cleaned, as REST and the widget
    clean theirs); one over MAX_MESSAGE_CHARS gets the limit in its thread; an event whose channel or ts is
    not an id is ignored, and nothing is posted for it."""
    dirty = dm(unique("DDIRTY"), text="how much does\x00 the MITx SCM\ud800 cost?")
    assert send_signed(assistant, json.dumps(event_callback(dirty, event_id())).encode()).status_code == 200
    assert slack.wait_for_posts(1, channel=dirty["channel"], thread_ts=dirty["ts"])[0]["text"].startswith(ANSWER)
    long = dm(unique("DLONG"), text="how much does it cost? " * 200)
    assert send_signed(assistant, callback(long)).status_code == 200
    reply = slack.wait_for_posts(1, channel=long["channel"], thread_ts=long["ts"])[0]["text"]
    assert f"{len(long['text'].strip()):,} characters long, more than the 2,000" in reply
    before = len(slack.posts())
    for bad in (dm("DBAD\u0000ID"), dm(unique("DBADTS"), ts="1.0 OR 1=1"), dm(unique("DBADTS"), ts="x" * 200)):
        response = send_signed(assistant, callback(bad))
        assert response.status_code == 200 and "ignored" in response.json(), response.text
    time.sleep(1)
    assert len(slack.posts()) == before


@pytest.mark.parametrize("name, event, changes", [
    ("text a number", dm("DBUGTEXT", text=5), {}),
    ("text a list", dm("DBUGLIST", text=[QUESTION]), {}),
    ("user a list", dm("DBUGUSER", user=["USTAFF"]), {}),
    ("subtype a dict", dm("DBUGSUB", subtype={"x": 1}), {}),
    ("thread_ts a dict", dm("DBUGTS", thread_ts={"x": 1}), {}),
    ("reaction item a string", {"type": "reaction_added", "user": "USTAFF", "reaction": "white_check_mark",
                                "item": "x", "event_ts": "1.0"}, {}),
    ("authorizations a string", dm("DBUGAUTH"), {"authorizations": "x"}),
    ("authorizations a list of strings", dm("DBUGAUTH2"), {"authorizations": ["x"]}),
    # Slack's own shape for these events: `user` is an object, not an id.
    ("team_join (user object)", {"type": "team_join", "user": {"id": "UNEW", "name": "new"}, "event_ts": "1.0"},
     {}),
    ("user_change (user object)", {"type": "user_change", "user": {"id": "USTAFF"}, "event_ts": "1.0"}, {}),
])
def test_a_signed_slack_event_with_unexpected_field_types_is_ignored(assistant, name, event, changes):
    """Found by these tests: a correctly signed event whose fields had other types than expected made the
    handler raise, and the webhook answered 500, so Slack would retry an event that can never succeed (Slack
    really sends `team_join` and `user_change` with `user` as an object). channels.slack.event_problem now
    ignores such events with 200."""
    response = send_signed(assistant, callback(event, **changes))
    assert response.status_code < 500, f"{name}: HTTP {response.status_code} {response.text}"


def forged_requests():
    """(name, channel, body, headers): each a staff question in a DM channel of its own."""
    now = int(time.time())
    cases = []

    def add(name, headers_for):
        channel = unique("DFORGED")
        body = callback(dm(channel))
        cases.append((name, channel, body, headers_for(body)))

    add("wrong secret", lambda body: signed_raw(body, secret="not-the-secret"))
    add("stale timestamp", lambda body: signed_raw(body, timestamp=now - 6 * 60))
    add("timestamp from the future", lambda body: signed_raw(body, timestamp=now + 6 * 60))
    add("no headers", lambda body: {"Content-Type": "application/json"})
    add("no signature", lambda body: {k: v for k, v in signed_raw(body).items() if k != "X-Slack-Signature"})
    add("no timestamp", lambda body: {k: v for k, v in signed_raw(body).items() if k != "X-Slack-Request-Timestamp"})
    add("timestamp not a number", lambda body: {**signed_raw(body), "X-Slack-Request-Timestamp": "soon"})
    add("empty signature", lambda body: {**signed_raw(body), "X-Slack-Signature": ""})
    add("other signature version", lambda body: {**signed_raw(body), "X-Slack-Signature":
                                                 signed_raw(body)["X-Slack-Signature"].replace("v0=", "v1=")})
    add("signature of another body", lambda body: signed_raw(body + b" "))
    return cases


def test_slack_forged_requests_are_refused_and_post_nothing(assistant, slack):
    cases = forged_requests()
    statuses = {name: post_slack(assistant, body, headers).status_code for name, _, body, headers in cases}
    assert statuses == {name: 401 for name, _, _, _ in cases}

    # Positive control: a signed question is answered, so a forged one would have been by now.
    staff_question_is_answered(assistant, slack)
    time.sleep(1)
    assert {channel: slack.posts(channel=channel) for _, channel, _, _ in cases} == \
        {channel: [] for _, channel, _, _ in cases}

    # And a forged request left no mark: its event, signed properly, is handled as new and answered.
    _, channel, body, _ = cases[0]
    assert send_signed(assistant, body).status_code == 200
    assert slack.wait_for_posts(1, channel=channel)[0]["text"].startswith(ANSWER)


# ---------------------------------------------------------------------------------------------------------
# socket.io: the web chat
# ---------------------------------------------------------------------------------------------------------

MALFORMED_USER_UTTERED = [
    "how much does the MITx SCM cost?",
    [QUESTION, "x"],
    42,
    None,
    {"session_id": "SESSION"},
    {"message": 5, "session_id": "SESSION"},
    {"message": None, "session_id": "SESSION"},
    {"message": {"text": QUESTION}, "session_id": "SESSION"},
    {"message": [QUESTION], "session_id": "SESSION"},
    {"message": QUESTION, "session_id": {"id": "x"}},
    {"message": QUESTION, "session_id": ["x"]},
    {"message": QUESTION, "session_id": None},
    {"message": QUESTION, "session_id": "SESSION", "customData": "not a mapping"},
    {"message": QUESTION, "session_id": "SESSION", "customData": {"program_id": {"x": 1}}},
]
MALFORMED_SESSION_REQUEST = ["a string", [1, 2], 5, {"session_id": {"id": "x"}}, {"session_id": [1]},
                             {"session_id": 7}]


def test_socketio_malformed_payloads_do_not_break_the_server(assistant):
    async def scenario():
        client = socketio.AsyncClient(reconnection=False)
        inbox: asyncio.Queue = asyncio.Queue()
        confirmed = asyncio.Event()
        client.on("bot_uttered", inbox.put_nowait)
        client.on("session_confirm", lambda _sid: confirmed.set())
        await client.connect(assistant.rasa_url, headers={"Origin": WEB_ORIGIN}, transports=["polling"])
        session = unique("sio-malformed")
        for payload in MALFORMED_SESSION_REQUEST:
            await client.emit("session_request", payload)
        for payload in MALFORMED_USER_UTTERED:
            if isinstance(payload, dict) and payload.get("session_id") == "SESSION":
                payload = {**payload, "session_id": session}
            await client.emit("user_uttered", payload)
        await asyncio.sleep(2)
        assert client.connected

        # Positive control on the same client: a proper session and message are answered.
        good = unique("sio-good")
        confirmed.clear()
        await client.emit("session_request", {"session_id": good})
        await asyncio.wait_for(confirmed.wait(), 30)
        await client.emit("user_uttered", {"message": QUESTION, "session_id": good})

        async def answered():
            while True:
                message = await inbox.get()
                if ANSWER in (message.get("text") or ""):
                    return message

        await asyncio.wait_for(answered(), 30)
        await client.disconnect()

        # And a new client is answered too.
        learner = Learner(assistant.rasa_url, origin=WEB_ORIGIN)
        await learner.connect()
        await learner.say(QUESTION)
        await learner.hear(ANSWER)
        await learner.disconnect()
        return good

    good = asyncio.run(scenario())
    assert QUESTION in user_texts(assistant, good)
    assert ANSWER in assistant.text(unique("rest-after-sio"), QUESTION)


# ---------------------------------------------------------------------------------------------------------
# Issue 23: ids, text and sizes no channel may let through
# ---------------------------------------------------------------------------------------------------------

BAD_SENDERS = {"lone surrogate": "x\ud800", "NUL": "x\x00y", "10,000 characters": "x" * 10_000,
               "a space": "two words", "a slash": "a/b"}


def test_rest_senders_outside_the_allow_list_get_400_and_the_server_keeps_its_pid(assistant):
    pid = assistant.rasa_process.pid
    for name, sender in BAD_SENDERS.items():
        body = json.dumps({"sender": sender, "message": QUESTION}).encode()  # "\ud800" stays an escape
        response = post_rest(assistant, body)
        assert response.status_code == 400 and '"sender"' in response.json()["error"], (name, response.text)
    assert assistant.rasa_process.poll() is None and assistant.rasa_process.pid == pid
    assert ANSWER in assistant.text(unique("rest-after-bad-senders"), QUESTION)


def test_rest_messages_are_capped_cleaned_and_stored_as_rest(assistant):
    too_long = unique("rest-too-long")
    response = post_rest(assistant, json.dumps({"sender": too_long, "message": "a" * 2001}).encode())
    assert response.status_code == 400 and "at most 2,000 characters" in response.json()["error"]
    assert user_texts(assistant, too_long) == []

    huge = json.dumps({"sender": unique("rest-huge"), "message": "a" * 400_000}).encode()  # over MAX_REQUEST_BYTES
    started = time.monotonic()
    assert post_rest(assistant, huge).status_code == 413
    assert time.monotonic() - started < 5

    cleaned = unique("rest-cleaned")
    body = json.dumps({"sender": cleaned, "message": QUESTION + "\x00\ud800", "input_channel": "slack"}).encode()
    assert ANSWER in " ".join(message.get("text", "") for message in post_rest(assistant, body).json())
    stored_user_texts(assistant, cleaned, 1)
    events = assistant.api("GET", f"/conversations/{cleaned}/tracker").json()["events"]
    user = [event for event in events if event["event"] == "user"]
    assert [(event["text"], event["input_channel"]) for event in user] == [(QUESTION, "rest")]


def stored_user_texts(assistant, sender: str, expected_count: int) -> list:
    """The conversation's user texts once it has `expected_count` (Rasa saves a turn after its replies go
    out), or what it has after 10 s."""
    deadline = time.monotonic() + 10
    while len(texts := user_texts(assistant, sender)) < expected_count and time.monotonic() < deadline:
        time.sleep(0.2)
    return texts


async def _connected(assistant) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(assistant.rasa_url, headers={"Origin": WEB_ORIGIN}, transports=["polling"])
    return client


def test_socketio_bad_session_ids_get_a_new_session(assistant):
    async def scenario():
        client = await _connected(assistant)
        confirmed: asyncio.Queue = asyncio.Queue()
        client.on("session_confirm", confirmed.put_nowait)
        given = []
        for sender in BAD_SENDERS.values():
            await client.emit("session_request", {"session_id": sender})
            given.append(await asyncio.wait_for(confirmed.get(), 30))
        await client.disconnect()
        return given

    given = asyncio.run(scenario())
    assert len(set(given)) == len(BAD_SENDERS) and not set(given) & set(BAD_SENDERS.values())
    assert all(len(session) == 32 and session.isalnum() for session in given), given


def test_a_socket_may_send_only_for_the_session_it_joined(assistant):
    victim_session = unique("sio-victim")

    async def scenario():
        victim = Learner(assistant.rasa_url, origin=WEB_ORIGIN, session_id=victim_session)
        await victim.connect()
        intruder = await _connected(assistant)  # never joins: Rasa's channel let it post as the victim
        await intruder.emit("user_uttered", {"message": "intruder one", "session_id": victim_session})
        joined_other: asyncio.Event = asyncio.Event()
        intruder.on("session_confirm", lambda _session: joined_other.set())
        await intruder.emit("session_request", {"session_id": unique("sio-intruder")})
        await asyncio.wait_for(joined_other.wait(), 30)
        await intruder.emit("user_uttered", {"message": "intruder two", "session_id": victim_session})
        await victim.hears_nothing(3)
        await victim.say(QUESTION)  # the positive control: the victim's own socket is answered
        await victim.hear(ANSWER)
        await intruder.disconnect()
        await victim.disconnect()

    asyncio.run(scenario())
    assert stored_user_texts(assistant, victim_session, 1) == [QUESTION]


def test_socketio_long_messages_are_refused_with_a_reply_and_others_cleaned(assistant):
    async def scenario():
        learner = Learner(assistant.rasa_url, origin=WEB_ORIGIN, session_id=unique("sio-long"))
        await learner.connect()
        await learner.say("a" * 2001)
        reply = await learner.hear("2,001 characters")
        await learner.say(QUESTION + "\x00\ud800")
        await learner.hear(ANSWER)
        await learner.disconnect()
        return learner.session_id, reply

    session, reply = asyncio.run(scenario())
    assert "2,000" in reply
    assert stored_user_texts(assistant, session, 1) == [QUESTION]


def test_a_socketio_packet_over_the_size_cap_closes_only_that_socket(assistant):
    async def scenario():
        flooder = await _connected(assistant)
        disconnected = asyncio.Event()
        flooder.on("disconnect", disconnected.set)
        await flooder.emit("user_uttered", {"message": "a" * 400_000, "session_id": "x"})
        await asyncio.wait_for(disconnected.wait(), 30)
        learner = Learner(assistant.rasa_url, origin=WEB_ORIGIN)
        await learner.connect()
        await learner.say(QUESTION)
        await learner.hear(ANSWER)
        await learner.disconnect()

    asyncio.run(scenario())


def test_a_conversation_sending_too_fast_is_told_to_wait_and_others_are_answered(assistant):
    flooding = unique("rest-flood")
    statuses = [post_rest(assistant, json.dumps({"sender": flooding, "message": "hi"}).encode()) for _ in range(25)]
    refused_now = [response for response in statuses if response.status_code == 429]
    assert 1 <= len(refused_now) <= 5 and all(r.status_code in (200, 429) for r in statuses)
    assert refused_now[0].headers["Retry-After"] == "60" and "wait" in refused_now[0].json()["error"]
    assert ANSWER in assistant.text(unique("rest-calm"), QUESTION)  # another conversation is not held up

    async def widget_flood():
        # Over websocket: long-polling would batch the 25 into one POST, which engine.io refuses (16 at most).
        learner = Learner(assistant.rasa_url, origin=WEB_ORIGIN, session_id=unique("sio-flood"),
                          transports=("websocket",))
        await learner.connect()
        for _ in range(25):
            await learner.say("hi")
        await learner.hear("faster than I can read them")
        await learner.disconnect()

    asyncio.run(widget_flood())
