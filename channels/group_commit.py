"""Many conversations' turns written in one transaction: one commit, one sync to disk, for all of them.

Each turn's save used to run its own transaction in a worker thread. Under load, the threads queued on
the database's single writer (SQLite has one; a PostgreSQL commit waits for its own log flush) and the
sync at each commit set the pace: about a third of the Rasa server's time at 300 learners. Here a
turn's save hands its rows to the writer and waits. The writer runs one transaction at a time, holding
every turn that arrived while the previous one committed (a lone turn goes at once, waiting for no
one), and each save returns when its turn is committed: as durable as before.

One turn that cannot be written (a value the database refuses) must not fail the others: when a
transaction fails, its turns are written again one transaction each, and only the failing turn's save
raises.
"""

import asyncio
from typing import Callable, List, Optional, Sequence, Tuple

Turn = Tuple[str, List[dict]]  # a conversation's id and its new events' rows
WriteTurns = Callable[[Sequence[Turn]], List[List[int]]]  # one transaction: each turn's new event ids


class GroupCommitWriter:
    def __init__(self, write_turns: WriteTurns) -> None:
        self._write_turns = write_turns
        self._waiting: List[Tuple[Turn, asyncio.Future]] = []
        self._draining: Optional[asyncio.Task] = None

    async def write(self, sender_id: str, rows: List[dict]) -> List[int]:
        """The ids the turn's events were stored under, once their transaction is committed."""
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        self._waiting.append(((sender_id, rows), written))
        if self._draining is None or self._draining.done() or self._draining.get_loop() is not loop:
            self._draining = loop.create_task(self._drain())
        # shielded: a learner who leaves mid-save cancels their wait, not the others' transaction
        return await asyncio.shield(written)

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            turns = [turn for turn, _ in batch]
            try:
                results = await asyncio.to_thread(self._write_turns, turns)
            except Exception as error:
                if len(batch) == 1:
                    _settle(batch[0][1], error=error)
                else:
                    await self._one_by_one(batch)
                continue
            except BaseException as error:  # cancelled (the server stopping): nobody waits for ever
                for _, written in batch:
                    _settle(written, error=error)
                raise
            for (_, written), ids in zip(batch, results, strict=True):
                _settle(written, ids)

    async def _one_by_one(self, batch: List[Tuple[Turn, asyncio.Future]]) -> None:
        for turn, written in batch:
            try:
                ids = (await asyncio.to_thread(self._write_turns, [turn]))[0]
            except Exception as error:
                _settle(written, error=error)
            else:
                _settle(written, ids)


def _settle(written: asyncio.Future, ids: Optional[List[int]] = None, error: Optional[BaseException] = None) -> None:
    if written.done():
        return
    if error is not None:
        written.set_exception(error)
    else:
        written.set_result(ids)
