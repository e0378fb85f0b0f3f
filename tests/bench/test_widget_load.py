"""The widget load generator's own parts: loopback only, bounded, percentiles and the report table."""

import pytest

from bench import widget_load


def test_it_refuses_a_host_other_than_loopback():
    with pytest.raises(SystemExit, match="loopback only"):
        widget_load.run("http://example.org:5005", 10, 1, 1, 0.0, 1.0, 0.0, ["polling"])


@pytest.mark.parametrize("learners", [0, widget_load.MAX_LEARNERS + 1])
def test_it_refuses_a_learner_count_out_of_bounds(learners):
    with pytest.raises(SystemExit, match="between 1 and"):
        widget_load.run("http://127.0.0.1:5005", learners, 1, 1, 0.0, 1.0, 0.0, ["polling"])


def test_percentiles_of_the_first_replies():
    values = [0.1 * step for step in range(1, 101)]
    assert widget_load.percentile(values, 0.5) == pytest.approx(5.0, abs=0.11)
    assert widget_load.percentile(values, 0.95) == pytest.approx(9.5, abs=0.11)
    assert widget_load.percentile([], 0.95) != widget_load.percentile([], 0.95)  # nan: no reply at all


def test_the_report_names_the_errors_and_the_cpu():
    row = {"learners": 600, "transport": "polling+websocket", "connected": 580, "asked": 1740, "answered": 1500,
           "p50": 2.3, "p95": 3.6, "p99": 5.0, "connect_p50": 0.4, "connect_p95": 2.25,
           "errors": {"ConnectionError": 20, "no reply in time": 240},
           "worker_cpu": [12.5, 11.0], "server_cpu": {101: 80.0, 102: 3.5}}
    table = widget_load.render([row])
    assert ("| 600 | polling+websocket | 580 | 0.40 / 2.25 | 1500 / 1740 | 2.30 / 3.60 / 5.00 | 12.5 11.0 | 83.5 |"
            in table)
    assert "ConnectionError 20, no reply in time 240" in table


def test_a_cpu_reading_of_a_process_that_is_gone_is_none():
    assert widget_load.cpu_seconds_of(2**22 + 12345) is None
    assert widget_load.cpu_seconds_of(__import__("os").getpid()) >= 0
