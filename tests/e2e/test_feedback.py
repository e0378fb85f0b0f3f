"""Learner feedback on answers ("helpful? 👍 / 👎", and a comment after 👎), through the real servers.

A rating is a payload, `/feedback{"rating": "up"|"down", "answer": "<the answer's first 80 characters>"}`, and a
comment a second one, `/feedback{"comment": "...", "answer": "..."}`: REST clients send them as they are, the
web widget (web/chat.js) from its 👍/👎 buttons. Each is stored as a user event (intent `feedback`, the
entities as sent), which the analytics read from Rasa's event stream; the assistant says a short thanks and
keeps the conversation's program and topic as they were.
"""

import json
import os
import uuid

import pytest

from tests.assistant import PROJECT_ROOT, running_site, train_model
from tests.e2e.browser import CHROMIUM, GREETING, session_id

pytestmark = pytest.mark.e2e

THANKS = "Thanks, that helps us improve."
SCM_COST = "how much does the MITx Supply Chain Management MicroMasters cost?"
SCM_COST_ANSWER = "MITx Supply Chain Management: $1,350 in total"
SCM_ADMISSION_ANSWER = "Completing MITx Supply Chain Management does not guarantee admission"
UNSAFE_COMMENT = 'It said "$1,350" {but} the page says \\ $1,500 }{ ]} </script><script>alert(1)</script> é 👎'


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The action server and the Rasa server (its HTTP API on, behind a token), and the demo page."""
    train_model()
    with running_site(tmp_path_factory.mktemp("feedback")) as (assistant, origin):
        yield assistant, origin


@pytest.fixture
def assistant(served):
    return served[0]


def new_sender():
    return f"learner-{uuid.uuid4().hex[:8]}"


def feedback(**entities):
    """The payload as the widget builds it (JSON.stringify), and as a REST client may."""
    return "/feedback" + json.dumps(entities)


def tracker(assistant, sender):
    response = assistant.api("GET", f"/conversations/{sender}/tracker")
    assert response.status_code == 200, response.text
    return response.json()


def feedback_events(events):
    """(entities as {name: value}, the raw entity list) of every stored feedback user event, in order."""
    found = []
    for event in events:
        if event.get("event") == "user" and (event.get("parse_data") or {}).get("intent", {}).get("name") == "feedback":
            entities = event["parse_data"]["entities"]
            found.append(({e["entity"]: e["value"] for e in entities}, entities))
    return found


def test_rest_rating_and_comment_are_thanked_stored_and_keep_the_context(assistant):
    learner = new_sender()
    answer = assistant.text(learner, SCM_COST)
    assert answer.startswith(SCM_COST_ANSWER)
    rated = answer[:80]
    comment = "The exam fee looks out of date"

    rating_reply = assistant.say(learner, feedback(rating="down", answer=rated))
    assert [reply.get("text") for reply in rating_reply] == [THANKS]
    comment_reply = assistant.say(learner, feedback(comment=comment, answer=rated))
    assert [reply.get("text") for reply in comment_reply] == [THANKS]

    stored = tracker(assistant, learner)
    found = feedback_events(stored["events"])
    assert [entities for entities, _ in found] == [{"rating": "down", "answer": rated},
                                                   {"comment": comment, "answer": rated}]
    for _, raw in found:  # one value per entity: a comment is never a second rating
        assert len(raw) == len({e["entity"] for e in raw})
    first_feedback = next(i for i, e in enumerate(stored["events"])
                          if e.get("event") == "user" and e.get("text", "").startswith("/feedback"))
    after = stored["events"][first_feedback:]
    assert [e for e in after if e["event"] == "slot"] == []  # the feedback fills no slot
    assert [e["name"] for e in after if e["event"] == "action"] == ["utter_feedback_thanks", "action_listen"] * 2
    assert stored["slots"]["program"] == "mitx-supply-chain-management"
    assert stored["slots"]["last_topics"] == ["cost"]

    # The conversation goes on where it was: the same program, and the last question for another one.
    assert SCM_ADMISSION_ANSWER in assistant.text(learner, "and does it guarantee admission?")
    assistant.say(learner, feedback(rating="up", answer="Completing MITx Supply Chain Management does not"))
    other = assistant.text(learner, "what about the wageningen one?")
    assert "WageningenX Biobased Sciences for Sustainability" in other and "admission" in other


def test_rest_comment_with_quotes_braces_and_markup_round_trips_exactly(assistant):
    learner = new_sender()
    answer = assistant.text(learner, SCM_COST)
    rated = 'MITx "SCM": {$1,350} </b>'
    assert assistant.text(learner, feedback(rating="down", answer=rated)) == THANKS
    assert assistant.text(learner, feedback(comment=UNSAFE_COMMENT, answer=answer[:80])) == THANKS
    found = [entities for entities, _ in feedback_events(tracker(assistant, learner)["events"])]
    assert found == [{"rating": "down", "answer": rated}, {"comment": UNSAFE_COMMENT, "answer": answer[:80]}]


def test_feedback_while_the_assistant_waits_for_a_program_choice_keeps_the_choice(assistant):
    learner = new_sender()
    asked = assistant.say(learner, "how much does the MIT micromasters cost?")
    assert asked[0]["text"] == "Several programs match. Which one do you mean?"
    assert assistant.text(learner, feedback(rating="up", answer="Several programs match.")) == THANKS
    button = next(b for b in asked[0]["buttons"] if b["title"] == "MITx Supply Chain Management")
    assert SCM_COST_ANSWER in assistant.text(learner, button["payload"])  # the cost question, still pending


def test_feedback_after_a_miss_is_thanked_not_counted_as_a_miss(assistant):
    learner = new_sender()
    assert "rephrase" in assistant.text(learner, "😀😀😀")
    assert assistant.text(learner, feedback(rating="down", answer="Sorry, I didn't quite understand.")) == THANKS
    assert "$1,350" in assistant.text(learner, "how much is the MITx SCM?")


def test_feedback_in_a_paused_conversation_is_stored_and_not_answered(assistant):
    """While staff have the conversation (paused) the assistant says nothing, to feedback as to anything."""
    learner = new_sender()
    assert SCM_COST_ANSWER in assistant.text(learner, SCM_COST)
    paused = assistant.api("POST", f"/conversations/{learner}/tracker/events", json=[{"event": "pause"}])
    assert paused.status_code == 200, paused.text
    assert assistant.say(learner, feedback(rating="up", answer=SCM_COST_ANSWER)) == []
    assert [e for e, _ in feedback_events(tracker(assistant, learner)["events"])] == [
        {"rating": "up", "answer": SCM_COST_ANSWER}]
    resumed = assistant.api("POST", f"/conversations/{learner}/tracker/events", json=[{"event": "resume"}])
    assert resumed.status_code == 200, resumed.text
    assert SCM_ADMISSION_ANSWER in assistant.text(learner, "and does it guarantee admission?")


# ---- the widget, in Debian's Chromium -------------------------------------------------------------------

@pytest.fixture
def widget(served, browser):  # noqa: F811
    """A browser launcher (tests/e2e/test_widget.py's), once Chromium and the widget's bundle are there."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    if not (PROJECT_ROOT / "web" / "node_modules" / "rasa-webchat" / "lib" / "index.js").is_file():
        pytest.fail("rasa-webchat is not installed: npm ci --prefix web")
    return browser


def answer_bubble(page, text):
    return page.locator(".rw-group-message.rw-from-response > .rw-message").filter(has_text=text).last


def bot_texts(events):
    return [e["text"] for e in events if e.get("event") == "bot" and e.get("text")]


def test_widget_feedback_by_keyboard_is_stored_on_the_server(served, widget):
    from playwright.sync_api import expect

    assistant, origin = served
    chat = widget({"width": 1280, "height": 860})
    page = chat.page
    chat.open_chat(origin)
    chat.expect_reply(GREETING)
    chat.say(SCM_COST)
    chat.expect_reply(SCM_COST_ANSWER)

    answer = answer_bubble(page, SCM_COST_ANSWER)
    helpful, unhelpful = answer.get_by_role("button", name="Helpful", exact=True), \
        answer.get_by_role("button", name="Not helpful", exact=True)
    expect(helpful).to_be_visible()
    expect(unhelpful).to_be_visible()
    assert answer.locator(".mm-feedback").inner_text().split() == ["Helpful?", "👍", "👎"]
    assert answer_bubble(page, GREETING).locator(".mm-feedback").count() == 0  # not under the greeting

    unhelpful.focus()
    page.keyboard.press("Enter")
    comment = answer.locator("input.mm-feedback-comment-input")
    expect(comment).to_be_focused()
    assert comment.get_attribute("maxlength") == "300"
    page.keyboard.type(UNSAFE_COMMENT)
    page.keyboard.press("Tab")
    expect(answer.get_by_role("button", name="Send")).to_be_focused()
    page.keyboard.press("Enter")
    expect(comment).to_have_count(0)
    expect(page.locator(".rw-response").filter(has_text=THANKS)).to_have_count(2)  # the rating, the comment

    # Recorded: shown as given, and not pressable again; no payload shown as a learner bubble, no rating
    # under the thanks.
    expect(unhelpful).to_be_disabled()
    expect(helpful).to_be_disabled()
    assert unhelpful.get_attribute("aria-pressed") == "true" and helpful.get_attribute("aria-pressed") == "false"
    assert page.locator(".rw-client").filter(has_text="feedback").count() == 0
    assert page.locator(".rw-client").filter(has_text="👎").count() == 0
    assert answer_bubble(page, THANKS).locator(".mm-feedback").count() == 0

    sender = session_id(page)
    events = tracker(assistant, sender)["events"]
    rated = next(text for text in bot_texts(events) if text.startswith(SCM_COST_ANSWER))[:80]
    assert [entities for entities, _ in feedback_events(events)] == [
        {"rating": "down", "answer": rated}, {"comment": UNSAFE_COMMENT, "answer": rated}]

    chat.say("and does it guarantee admission?")  # the program is still in context
    chat.expect_reply(SCM_ADMISSION_ANSWER)
    admission = answer_bubble(page, SCM_ADMISSION_ANSWER)
    expect(admission.get_by_role("button", name="Helpful", exact=True)).to_be_enabled()
    admission.get_by_role("button", name="Helpful", exact=True).click()
    expect(page.locator(".rw-response").filter(has_text=THANKS)).to_have_count(3)
    assert [e["rating"] for e, _ in feedback_events(tracker(assistant, sender)["events"]) if "rating" in e] == [
        "down", "up"]

    page.reload()  # the ratings given still show as given
    chat.open_chat(origin)
    chat.expect_reply(SCM_ADMISSION_ANSWER)
    expect(answer_bubble(page, SCM_COST_ANSWER).get_by_role("button", name="Not helpful", exact=True)).to_be_disabled()
    expect(answer_bubble(page, SCM_ADMISSION_ANSWER).get_by_role("button", name="Helpful", exact=True)).to_be_disabled()
    chat.screenshot("widget-feedback-desktop.png")
    chat.check_nothing_left_the_machine(assistant.rasa_url)


def test_widget_feedback_on_a_phone(served, widget):
    from playwright.sync_api import expect

    assistant, origin = served
    width, height = 375, 740
    chat = widget({"width": width, "height": height})
    page = chat.page
    chat.open_chat(origin)
    chat.expect_reply(GREETING)
    chat.say(SCM_COST)
    chat.expect_reply(SCM_COST_ANSWER)
    answer = answer_bubble(page, SCM_COST_ANSWER)
    buttons = [answer.get_by_role("button", name=name, exact=True) for name in ("Helpful", "Not helpful")]

    def inside_the_screen(locator):
        locator.scroll_into_view_if_needed()
        expect(locator).to_be_visible()
        box = locator.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
        assert box["width"] >= 24 and box["height"] >= 24, box  # big enough to tap

    for button in buttons:
        inside_the_screen(button)
    buttons[1].click()
    for part in ("input.mm-feedback-comment-input", "button.mm-feedback-send", "button.mm-feedback-skip"):
        inside_the_screen(answer.locator(part))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    chat.screenshot("widget-feedback-phone.png")
    answer.locator("button.mm-feedback-skip").click()
    expect(answer.locator("input.mm-feedback-comment-input")).to_have_count(0)
    expect(buttons[1]).to_be_disabled()
    expect(page.locator(".rw-response").filter(has_text=THANKS)).to_have_count(1)  # skipped: no comment sent
    found = [e for e, _ in feedback_events(tracker(assistant, session_id(page))["events"])]
    assert len(found) == 1 and found[0]["rating"] == "down" and found[0]["answer"].startswith(SCM_COST_ANSWER)
    chat.check_nothing_left_the_machine(assistant.rasa_url)
