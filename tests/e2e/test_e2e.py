"""End to end: the real action server and Rasa server, talked to through the REST channel."""

import asyncio
import copy
import re
import statistics
import uuid

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text

from bench.measure import read_nlu_examples
from bench.scoring import is_question_intent, label_of_intent, score
from catalog.file import parse_catalog
from catalog.loader import export_catalog, load_catalog
from core import handoffs
from core.db import engine_for
from tests.assistant import PROJECT_ROOT, Learner, running_assistant, train_model
from tests.conftest import PostgresSchema

pytestmark = pytest.mark.e2e
# Cross-validation on the training data (see test_dev_set_scores_stay_above_the_cross_validation_floors).
CV_INTENT_ACCURACY, CV_FOUR_TOPIC_ACCURACY, CV_OOS_TOPIC_SHARE, CV_MARGIN = 0.872, 0.890, 0.076, 0.05


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    train_model()
    workdir = tmp_path_factory.mktemp("assistant")
    with running_assistant(
        workdir, f"sqlite:///{workdir / 'catalog.db'}", f"sqlite:///{workdir / 'conversations.db'}"
    ) as running:
        yield running


def new_sender():
    return f"learner-{uuid.uuid4().hex[:8]}"


def test_program_specific_answers_to_the_four_questions(assistant):
    learner = new_sender()
    cost = assistant.text(learner, "how much does the MITx Supply Chain Management MicroMasters cost?")
    assert cost.startswith("MITx Supply Chain Management: $1,350 in total") and "as of c. 2016-2018" in cost
    assert cost.split().count("https://micromasters.mit.edu/scm/frequently-asked-questions/") == 1
    admission = assistant.text(learner, "and does it guarantee admission to a masters?")
    assert "Completing MITx Supply Chain Management does not guarantee admission" in admission
    credit = assistant.text(learner, "can I transfer the credits to another university?")
    assert credit.startswith("Yes: MITx Supply Chain Management counts for credit")
    assert "more on the program page" in credit
    career = assistant.text(learner, "will it help me get a job?")
    assert "Walmart" in career and "No MicroMasters guarantees a job" in career


def test_general_answers_when_no_program_is_named(assistant):
    learner = new_sender()
    cost = assistant.text(learner, "how much does a micromasters usually cost")
    assert "in general" in cost and "Each program sets its own price" in cost and "$99 to about $249" in cost
    credit = assistant.text(learner, "is the credential transferable to any school for credit?")
    assert "Usually only the offering university grants credit" in credit
    admission = assistant.text(learner, "if I complete it am I guaranteed admission to a master's?")
    assert "does not guarantee admission" in admission
    career = assistant.text(learner, "will this help me get a job in Germany")
    assert "does not guarantee a job" in career


def test_follow_up_switch_and_missing_fact(assistant):
    learner = new_sender()
    named = assistant.say(learner, "what about the RIT cybersecurity one")
    assert named[0]["text"].startswith("RITx Cybersecurity")
    assert [b["payload"] for b in named[0]["buttons"]][-1] == "/ask_cost"
    missing = assistant.text(learner, "and how much is it?")
    assert "No price on record for RITx Cybersecurity" in missing
    assert "won't guess" in missing
    switched = assistant.text(learner, "how much is the MITx SCM?")
    assert "$1,350" in switched
    again = assistant.text(learner, "does it guarantee admission?")
    assert "MITx Supply Chain Management" in again


def test_ambiguous_program_button_round_trip(assistant):
    learner = new_sender()
    asked = assistant.say(learner, "how much does the MIT micromasters cost?")
    assert asked[0]["text"] == "Several programs match. Which one do you mean?"
    button = next(b for b in asked[0]["buttons"] if b["title"] == "MITx Supply Chain Management")
    answered = assistant.text(learner, button["payload"])
    assert "$1,350 in total" in answered


def test_out_of_scope_and_repeated_misses_offer_support(assistant):
    learner = new_sender()
    assert "https://support.edx.org" in assistant.text(learner, "can you write me a poem about cats")
    first = assistant.text(learner, "😀😀😀")
    assert "rephrase" in first
    second = assistant.text(learner, "🙃🙃")
    assert "https://support.edx.org" in second


# How each of the four topic answers starts (actions/answers.py): a reply with none of these is no topic answer.
TOPIC_ANSWER_MARKS = ("in total", "No price on record", "counts for credit", "No credit pathway on record",
                      "guarantee admission", "guarantees admission", "guarantees a job", "in general:")


def is_topic_answer(reply: str) -> bool:
    return any(mark in reply for mark in TOPIC_ANSWER_MARKS)


def test_elliptical_follow_up_and_topic_switch_over_rest(assistant):
    learner = new_sender()
    assert "$1,350 in total" in assistant.text(learner, "what does the supply chain micromasters cost?")
    other = assistant.text(learner, "what about the wageningen one?")
    assert other.startswith("WageningenX Biobased Sciences for Sustainability: $1,200 in total")
    credit = assistant.text(learner, "and the credit?")  # a new topic for the same program
    assert "WageningenX Biobased Sciences for Sustainability" in credit and "credit" in credit
    assert not credit.startswith("WageningenX Biobased Sciences for Sustainability: $")


def test_page_context_over_rest_metadata(assistant):
    learner, page = new_sender(), {"program_id": "mitx-supply-chain-management"}
    assert assistant.text(learner, "how much does it cost?", page).startswith("MITx Supply Chain Management: $1,350")
    switched = assistant.text(learner, "and what does the RIT cybersecurity one cost?", page)
    assert switched.startswith("No price on record for RITx Cybersecurity")


@pytest.mark.parametrize("question", [
    "When does the next run of SC1x open for enrolment?",
    "Is the final exam proctored, and can I sit it at home with my webcam?",
    "I paid for the verified track last week but changed my mind, can I unenroll and get my money back?",
])
def test_questions_beyond_the_four_topics_never_get_a_topic_answer(assistant, question):
    reply = assistant.text(new_sender(), question)
    assert reply and not is_topic_answer(reply), reply


@pytest.mark.parametrize("question, answer_start, dated, source", [
    ("what exactly is a micromasters program?", "edX describes a MicroMasters as a series of graduate-level courses",
     "(as of 2016-2017)", "https://blog.edx.org/top-4-faq-micromasters-credential"),
    ("how do refunds work if I unenroll from a verified course?", "Unenroll from a verified-track course",
     "(undated page (stored copy seen 2026-11))",
     "https://support.edx.org/hc/en-us/articles/206914947-Can-I-get-a-refund"),
    ("does edX offer financial assistance for the verified certificate?", "edX offers learners in financial need",
     "(as of 2016-03-31)", "https://api.dev.thecrimson.com/article/2016/3/31/edx-inaugurates-financial-aid/"),
])
def test_general_faq_answers_with_their_source_link(assistant, question, answer_start, dated, source):
    reply = assistant.text(new_sender(), question)
    assert reply.startswith(answer_start), reply
    assert dated in reply and source in reply


def test_socketio_follow_up_page_context_and_markdown_links(assistant):
    """A short answer is one message (one bubble), its source a Markdown link the widget renders."""
    async def conversation():
        learner = Learner(assistant.rasa_url, origin="http://127.0.0.1:8080",
                          custom_data={"program_id": "mitx-supply-chain-management"})
        await learner.connect()
        try:
            await learner.say("how much does it cost?")
            cost = await learner.hear("$1,350 in total")
            await learner.say("what about the wageningen one?")
            other = await learner.hear("WageningenX")
            await learner.say("can I get a refund if I unenroll?")
            refund = await learner.hear("refunded")
            return cost, other, refund
        finally:
            await learner.disconnect()

    cost, other, refund = asyncio.run(conversation())
    assert cost.startswith("MITx Supply Chain Management: $1,350 in total")
    assert "[MIT SCM MicroMasters FAQ](https://micromasters.mit.edu/scm/frequently-asked-questions/)" in cost
    assert other.startswith("WageningenX Biobased Sciences for Sustainability: $1,200 in total")
    assert not is_topic_answer(refund)
    assert "](https://support.edx.org/hc/en-us/articles/206914947-Can-I-get-a-refund)" in refund


@pytest.mark.parametrize(
    "message",
    ["", "x" * 2_000, "😀🎓💸", "Combien coûte le programme et est-ce reconnu en France ?",
     "'; DROP TABLE programs; --", "<img src=x onerror=alert(1)>", "{\"intent\": null}", "/ask_cost{broken"],
)
def test_bad_input_gets_a_reply_and_writes_nothing_to_the_catalog(assistant, message):
    before = export_catalog(engine_for(assistant.database_url))
    replies = assistant.say(new_sender(), message)
    assert replies and all(reply.get("text") for reply in replies)
    assert export_catalog(engine_for(assistant.database_url)) == before


def test_malformed_request_is_refused_cleanly(assistant):
    response = requests.post(f"{assistant.rasa_url}/webhooks/rest/webhook", data=b"{not json", timeout=30,
                             headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert assistant.text(new_sender(), "hello")  # the server is still answering


def test_conversations_are_stored_in_the_sql_tracker_store(assistant):
    learner = new_sender()
    assistant.say(learner, "how much does the MITx SCM cost?")
    engine = create_engine(assistant.tracker_store_url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": learner}
        ).all()
    engine.dispose()
    kinds = [row.type_name for row in rows]
    assert "user" in kinds and "bot" in kinds
    assert any("how much does the MITx SCM cost?" in row.data for row in rows)


def test_a_conversation_that_staff_have_starts_its_session_paused(assistant):
    """The Rasa server's session start looks for an open handoff: a new session while staff have the
    conversation stays paused."""
    learner = new_sender()
    handoffs.open_handoff(learner, "can I transfer the credit?", None, "> learner: hi",
                          engine=engine_for(assistant.database_url))
    assert assistant.say(learner, "how much does the MITx SCM cost?") == []
    tracker = assistant.api("GET", f"/conversations/{learner}/tracker").json()
    assert tracker["paused"] is True
    assert [event["event"] for event in tracker["events"]][:4] == ["action", "session_started", "pause", "action"]
    other = new_sender()  # positive control: without a handoff the same first message is answered
    assert "$1,350" in assistant.text(other, "how much does the MITx SCM cost?")


def test_a_program_added_to_the_catalog_is_answered_without_restart(assistant):
    engine = engine_for(assistant.database_url)
    original = export_catalog(engine)
    extended = copy.deepcopy(original)
    new_program = copy.deepcopy(next(p for p in extended["programs"] if p["id"] == "mitx-finance"))
    new_program.update(id="mitx-quantum-widgets", title="Quantum Widgets", aliases=["QW"], course_codes=["QW1x"])
    new_program["prices"] = [{"kind": "total", "amount": 777, "amount_max": None, "currency": "USD",
                              "as_of": "2026-11", "note": None, "source": "mit-scm-faq"}]
    extended["programs"].append(new_program)
    try:
        load_catalog(engine, parse_catalog(extended))
        reply = assistant.text(new_sender(), "how much does the Quantum Widgets micromasters cost?")
        assert reply.startswith("MITx Quantum Widgets: $777 in total")
    finally:
        load_catalog(engine, parse_catalog(original))


def test_dev_set_scores_stay_above_the_cross_validation_floors(assistant):
    """Floors from `python -m bench.crossval` (5-fold, Rasa's own cross-validation on data/nlu.yml, run
    on 2026-11-28 with the final training data: intent accuracy 0.872, four-topic accuracy 0.890,
    out-of-scope questions given a topic answer 0.076), with a margin of 0.05; never from the
    real-question test set."""
    results = []
    for example, intent in read_nlu_examples(PROJECT_ROOT / "tests" / "nlu_dev.yml"):
        parsed = assistant.api("POST", "/model/parse", json={"text": example}).json()
        results.append((intent, parsed["intent"]["name"]))
    accuracy = statistics.mean(gold == predicted for gold, predicted in results)
    questions = score([(label_of_intent(g), label_of_intent(p)) for g, p in results if is_question_intent(g)])
    print(f"dev set: intent accuracy {accuracy:.3f}, four-topic accuracy {questions.four_topic_accuracy:.3f}, "
          f"out-of-scope given a topic answer {questions.oos_topic_share:.3f} ({len(results)} examples)")
    assert len(results) >= 250 and questions.other_questions >= 50
    assert accuracy >= CV_INTENT_ACCURACY - CV_MARGIN
    assert questions.four_topic_accuracy >= CV_FOUR_TOPIC_ACCURACY - CV_MARGIN
    assert questions.oos_topic_share <= CV_OOS_TOPIC_SHARE + CV_MARGIN


@pytest.mark.postgres
def test_postgresql_catalog_and_conversations(tmp_path):
    train_model()
    schema = PostgresSchema()
    try:
        with running_assistant(tmp_path, schema.url, schema.url) as running:
            learner = new_sender()
            assert "$1,350" in running.text(learner, "how much does the MITx SCM cost?")
            assert "does not guarantee admission" in running.text(learner, "and is admission guaranteed?")
            with schema.admin.connect() as connection:
                stored = connection.execute(
                    text(f'SELECT count(*) FROM "{schema.name}".events WHERE sender_id = :s'), {"s": learner}
                ).scalar_one()
            assert stored >= 6
    finally:
        schema.drop()


async def socketio_exchange(url, message, origin=None, transports=("polling",)):
    """One learner turn over the socket.io channel, the way the web widget talks."""
    learner = Learner(url, origin=origin, transports=transports)
    await learner.connect()
    try:
        await learner.say(message)
        return await learner.hear("")
    finally:
        await learner.disconnect()


def test_socketio_channel_answers_the_allowed_origin(assistant):
    reply = asyncio.run(socketio_exchange(assistant.rasa_url, "how much does the MITx SCM cost?",
                                          origin="http://127.0.0.1:8080"))
    assert "MITx Supply Chain Management: $1,350 in total" in reply


def test_socketio_client_that_tries_to_upgrade_still_gets_answers(assistant):
    """Browsers start on polling and try a websocket upgrade; the server must not offer one."""
    reply = asyncio.run(socketio_exchange(assistant.rasa_url, "how much does the MITx SCM cost?",
                                          origin="http://127.0.0.1:8080", transports=("polling", "websocket")))
    assert "MITx Supply Chain Management: $1,350 in total" in reply


def test_socketio_channel_refuses_other_origins(assistant):
    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(socketio_exchange(assistant.rasa_url, "hello", origin="https://evil.example"))


def test_without_slack_settings_the_slack_endpoint_is_off_and_support_is_offered(assistant):
    response = requests.post(f"{assistant.rasa_url}/webhooks/slack/webhook", json={"type": "url_verification"},
                             timeout=30)
    assert response.status_code == 503
    assert "https://support.edx.org" in assistant.text(new_sender(), "I want to talk to a real person")


def test_a_retired_programs_answer_says_so_first_with_its_source(assistant):
    reply = assistant.text(new_sender(), "how much is the columbia business analytics micromasters?")
    assert reply.startswith("Note: ColumbiaX Business Analytics was retired in 2021-08")
    assert "https://courses.edx.org/courses/course-v1:ColumbiaX+BAMM.102x+1T2021" in reply.splitlines()[0]
    assert "No price on record for ColumbiaX Business Analytics, and I won't guess one." in reply


def test_an_old_facts_answer_says_how_old_it_is_and_where_todays_lives(assistant):
    reply = assistant.text(new_sender(), "how much does the MITx supply chain micromasters cost?")
    assert re.search(r"That price is from 2018, \d+ years ago: today's is on the program page\.", reply)
    # the newer exam fee is said apart, never added to the older total or beside the older $600 fee
    assert "Separately, as of 2019: $200 for the capstone or final exam." in reply
    assert "$600" not in reply


def test_a_program_launched_after_2017_is_recognised_and_answered(assistant):
    sender = new_sender()
    reply = assistant.text(sender, "does the negotiation and leadership micromasters count for credit?")
    assert reply.startswith("Yes: TecdeMonterreyX Negotiation and Leadership counts for credit at 1 school")
    assert "Tecnológico de Monterrey" in reply and "teclabs.io" in reply
    reply = assistant.text(sender, "and how much does it cost?")
    assert "No price on record for TecdeMonterreyX Negotiation and Leadership" in reply


def answered(assistant, sender):
    """The answer metadata of the bot messages of the conversation's last turn (topic, language)."""
    events = assistant.api("GET", f"/conversations/{sender}/tracker").json()["events"]
    last_user = max(index for index, event in enumerate(events) if event["event"] == "user")
    return [event.get("metadata", {}) for event in events[last_user:] if event["event"] == "bot"]


@pytest.mark.parametrize("question, opening, topic, language", [
    ("¿cuánto cuesta el micromaster de supply chain?", "MITx Supply Chain Management: $1,350 en total", "cost", "es"),
    ("¿el micromasters de supply chain del MIT vale créditos para una maestría?",
     "Sí: MITx Supply Chain Management vale créditos en", "credit", "es"),
    ("Combien coûte le MicroMasters en supply chain du MIT ?", "MITx Supply Chain Management : $1,350 au total",
     "cost", "fr"),
    ("O MicroMasters de supply chain do MIT vale créditos para um mestrado?",
     "Sim: MITx Supply Chain Management vale créditos em", "credit", "pt"),
])
def test_a_question_in_spanish_french_or_portuguese_gets_the_answer_in_that_language(
        assistant, question, opening, topic, language):
    learner = new_sender()
    reply = assistant.text(learner, question)
    assert reply.startswith(opening), reply
    assert [m.get("answer", {}).get("topic") for m in answered(assistant, learner)] == [topic]
    assert answered(assistant, learner)[0]["answer"]["language"] == language
    follow_up = assistant.text(learner, "ok")  # too short to tell: the language sticks
    assert not follow_up.startswith("Sorry")


@pytest.mark.parametrize("question, topic, fragment, language", [
    ("¿puedo pedir ayuda financiera para pagar los cursos?", "faq:financial_assistance", "descuento", "es"),
    ("comment obtenir un remboursement si je me désinscris ?", "faq:refunds", "rembours", "fr"),
    ("como funcionam os exames, são supervisionados?", "faq:exams", "provas", "pt"),
])
def test_a_general_faq_question_in_another_language_gets_the_translated_answer(
        assistant, question, topic, fragment, language):
    learner = new_sender()
    reply = assistant.text(learner, question)
    [meta] = answered(assistant, learner)
    assert (meta["answer"]["topic"], meta["answer"]["language"]) == (topic, language), meta
    assert fragment in reply.lower() and "inglés" not in reply and "anglais" not in reply, reply
    assert "https://" in reply


def test_the_browsers_language_starts_the_conversation_in_it(assistant):
    learner = new_sender()
    assert assistant.text(learner, "/greet", {"language": "pt-BR"}).startswith("Olá! Respondo a perguntas")


@pytest.mark.parametrize("question, opening", [
    ("Wie viel kostet das MicroMasters-Programm in Supply Chain Management?", "Leider antworte ich nur"),
    ("Quanto costa il programma di gestione della catena di approvvigionamento?", "Mi dispiace, rispondo solo"),
    ("كم تكلفة برنامج MicroMasters في سلاسل الإمداد؟", "عذرًا"),
])
def test_a_language_not_answered_gets_the_honest_reply_and_no_topic_answer(assistant, question, opening):
    learner = new_sender()
    reply = assistant.text(learner, question)
    assert reply.startswith(opening) and "https://support.edx.org" in reply
    assert "$" not in reply
    assert [m.get("declined") for m in answered(assistant, learner)] == ["unsupported_language"]


def test_the_long_capstone_question_gets_the_retake_rule(assistant):
    learner = new_sender()
    reply = assistant.text(learner, "I finished 3 of the 5 courses in the statistics and data science program but "
                                    "I failed the capstone exam, can I retake it and how much would that cost?")
    assert [m.get("answer", {}).get("topic") for m in answered(assistant, learner)] == ["faq:exam_retakes"]
    assert "twice" in reply and "per course" not in reply


def test_two_questions_in_one_message_get_two_answers(assistant):
    learner = new_sender()
    replies = assistant.say(learner, "How much does the MITx Supply Chain Management program cost? "
                                     "And can I get financial assistance?")
    topics = [m.get("answer", {}).get("topic") for m in answered(assistant, learner)]
    assert sorted(topics) == ["cost", "faq:financial_assistance"], topics
    assert any("$1,350" in r.get("text", "") for r in replies)


def test_replies_are_short_with_at_most_two_links(assistant):
    learner = new_sender()
    for question in ("does it count for credit?", "how much does it cost?", "will it help me get a job?",
                     "does it guarantee admission?"):
        reply = assistant.text(learner, f"MITx Supply Chain Management: {question}")
        assert len(re.findall(r"https?://", reply)) <= 2, reply
        assert len(reply.split()) <= 70, reply
        assert "https://www.edx.org " not in f"{reply} "


# The learner questions behind the catalog audit's fixes (issue 20): each answer carries the corrected fact.
def test_dedp_track_question_gets_the_apply_to_the_program_rule(assistant):
    reply = assistant.text(new_sender(), "I did the DEDP micromasters electives of the international development "
                                         "track, can I still apply to the public policy track of the MIT master's?")
    assert "not to one track" in reply and "either track" in reply
    assert "must match" not in reply and "corresponding track" not in reply
    assert "economics.mit.edu" in reply


def test_dedp_hundred_dollar_question_gets_the_coupon_lottery(assistant):
    reply = assistant.text(new_sender(), "how much do the DEDP courses cost? can I pay only $100?")
    assert "$100 for one course with a coupon, is not for everyone" in reply
    assert "lottery" in reply and "$10,000" in reply
    assert "$100 to $1,000 per course" not in reply.split("(was")[0]  # $100 is never given as everyone's floor


def test_scm_cost_never_adds_up_facts_of_different_years(assistant):
    reply = assistant.text(new_sender(), "what is the total cost of the MIT supply chain management micromasters?")
    assert reply.startswith("MITx Supply Chain Management: $1,350 in total ($150 per course), as of c. 2016-2018.")
    assert "Separately, as of 2019: $200 for the capstone or final exam." in reply
    assert "A third-party site (BCBusiness magazine) said in 2021-04: about 2,000 (currency not stated by the " \
           "source) in total (a rounded figure)." in reply
    assert "$950" not in reply  # 5 x $150 + $200 is never said


@pytest.mark.parametrize("question, program, figure, site", [
    ("how much does the MIT statistics and data science micromasters cost?", "MITx Statistics and Data Science",
     "$300 per course", "Cursarium"),
    ("what's the price of the ColumbiaX artificial intelligence micromasters?", "ColumbiaX Artificial Intelligence",
     "$199 per course", "Cursarium"),
])
def test_a_review_sites_price_is_labelled_third_party_and_dated(assistant, question, program, figure, site):
    reply = assistant.text(new_sender(), question)
    assert reply.startswith(f"{program}: no price from the program itself on record. A third-party site ({site}")
    assert "said in 20" in reply and f"{figure}, not the program's own price" in reply


def test_michigan_social_work_is_answered_as_the_mastertrack_it_became(assistant):
    sender = new_sender()
    reply = assistant.text(sender, "how much is the Michigan social work micromasters?")
    assert reply.startswith("Note: MichiganX Social Work: Practice, Policy and Research has moved to Coursera "
                            "MasterTrack")
    assert "$2,000 in total, as of 2023" in reply and "$199" not in reply
    credit = assistant.text(sender, "does it count toward the MSW?")
    assert "45" in credit and "University of Michigan" in credit


def test_a_bundle_refund_question_gets_the_bundles_own_window(assistant):
    reply = assistant.text(new_sender(), "can I get a refund on one course of my program bundle?")
    assert "A program bundle is refunded course by course" in reply
    assert "within 14 days of enrolling or of its start" in reply
