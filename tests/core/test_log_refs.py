"""Log lines name a conversation by a reference, never by its id (the widget's session id)."""

import asyncio
import logging

from core import log_refs

SESSION = "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b"


def test_a_conversation_id_in_any_log_line_is_replaced_by_its_reference(caplog):
    log_refs.install()
    library = logging.getLogger("rasa.core.lock_store")

    async def handle():
        log_refs.handling(SESSION)
        library.error("Could not acquire lock for conversation '%s'.", SESSION)
        await asyncio.to_thread(library.error, f"in a worker thread: {SESSION}")

    async def another_task():
        library.error("nothing to hide here: %s", "other-conversation")

    async def both():
        await asyncio.gather(handle(), another_task())

    with caplog.at_level(logging.ERROR):
        asyncio.run(both())
    text = "\n".join(record.getMessage() for record in caplog.records)
    ref = log_refs.conversation_ref(SESSION)
    assert SESSION not in text
    assert f"Could not acquire lock for conversation '{ref}'." in text and f"in a worker thread: {ref}" in text
    assert "nothing to hide here: other-conversation" in text


def test_references_are_stable_and_distinct():
    assert log_refs.conversation_ref(SESSION) == log_refs.conversation_ref(SESSION)
    assert log_refs.conversation_ref(SESSION) != log_refs.conversation_ref(SESSION + "x")
    assert log_refs.conversation_ref("x\ud800").startswith("c-")


def test_a_log_line_cannot_be_split_or_carry_terminal_escapes(caplog):
    """Found in review: ids and paths a client sent reached log lines as they were; a line break in one
    started a forged line."""
    log_refs.install()
    logger = logging.getLogger("dashboard")
    forged = "/\n2026-12-07 12:00:00 INFO dashboard: signed in: UADMIN\x1b[2J\ud800\u2028"
    with caplog.at_level(logging.INFO):
        logger.info("%s %s", "GET", forged)
        logger.info("plain line, kept as it is: caf\u00e9 \u4e2d")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("with a traceback")
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == ("GET /\\n2026-12-07 12:00:00 INFO dashboard: signed in: UADMIN\\x1b[2J\\ud800\\u2028")
    assert lines[1] == "plain line, kept as it is: caf\u00e9 \u4e2d"
    assert all("\n" not in line for line in lines)
    assert "Traceback" in caplog.text and "ValueError: boom" in caplog.text  # formatted apart, lines kept
