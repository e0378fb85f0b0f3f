"""The abuse drill's verdicts and table (the drill itself is `make abuse-drill`, too long for make test)."""

from collections import Counter

from bench import abuse_drill


class Learners:
    def __init__(self, asked, answered):
        self.asked, self.answered, self.seconds = asked, answered, [0.1, 0.2, 0.3]


def result(**changes):
    base = {"kind": "SQLite", "rows": {"REST huge bodies": Counter({"4xx": 13}),
                                       "REST one conversation flooding": Counter({"2xx": 23, "4xx": 17}),
                                       "socket.io hostile clients": Counter({"handoff askers answered": 40})},
            "alive": {"rasa": True, "actions": True}, "learners": Learners(32, 32), "handoffs": 10,
            "normal_ok": True, "normal_seconds": 0.02, "feed_ok": True, "feed_output": "", "seconds": 25.0,
            "counted": 17, "commands_answered": 1}
    return {**base, **changes}


def test_a_clean_run_passes_every_verdict():
    assert all(abuse_drill.verdicts(result()).values())
    assert "| REST huge bodies | 13 | 0 | 13 | 0 | 0 |" in abuse_drill.render_result(result())


def test_each_kind_of_breakage_fails_its_verdict():
    broken = {
        "every server kept its first pid": result(alive={"rasa": False, "actions": True}),
        "no 5xx": result(rows={"REST huge bodies": Counter({"4xx": 12, "5xx": 1}), "socket.io hostile clients":
                               Counter(), "REST one conversation flooding": Counter({"4xx": 17})}),
        "every learner question answered": result(learners=Learners(32, 31)),
        f"at most {abuse_drill.HANDOFF_CAP} handoffs reached Slack": result(handoffs=abuse_drill.HANDOFF_CAP + 1),
        "the analytics feed read the log to its end": result(feed_ok=False, feed_output="batch failed"),
        "a normal question answered within 1 s": result(normal_seconds=1.5),
        "the rate-limited messages are on the dashboard": result(counted=16),
        "a replayed slash command answered once": result(commands_answered=2),
    }
    for verdict, outcome in broken.items():
        failed = [name for name, ok in abuse_drill.verdicts(outcome).items() if not ok]
        assert failed == [verdict]
        assert f"FAIL: {verdict}" in abuse_drill.render_result(outcome)
