"""Rasa's check of an action server response: Rasa's own (`jsonschema.validate` per call), the validator
compiled once, and the project's check (compiled once, each event against the kind its name selects:
rasa_speedups/action_response.py), on the same responses, in one run.

    .venv/bin/python -m bench.validation [--rounds N]

Prints the median milliseconds per response for each and the ratio of the project's to Rasa's. The
responses are what this project's action server sends: an answer with slot events, a general answer,
and a session start.
"""

import argparse
import statistics
import time

from jsonschema import validate
from rasa.core.actions.action import RemoteAction

from rasa_speedups.action_response import event_kind_validators, response_validator, validate_response

RESPONSES = {
    "answer with two slot events": {
        "events": [{"event": "slot", "name": "program", "value": "mitx-supply-chain-management", "timestamp": None},
                   {"event": "slot", "name": "last_topics", "value": ["cost"], "timestamp": None}],
        "responses": [{"text": "MITx Supply Chain Management: $1,350 in total ... " * 4, "buttons": [],
                       "elements": [], "custom": {}, "template": None, "response": None, "image": None,
                       "attachment": None}],
    },
    "general answer, no events": {"events": [], "responses": [{"text": "Refunds: ... " * 10}]},
    "session start": {
        "events": [{"event": "session_started", "timestamp": None},
                   {"event": "slot", "name": "program", "value": "mitx-finance", "timestamp": None},
                   {"event": "action", "name": "action_listen", "timestamp": None}],
        "responses": [],
    },
}


def median_ms(check, response, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        check(response)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args(argv)
    schema = RemoteAction.action_response_format_spec()
    response_validator(), event_kind_validators()  # compiled once, as in the server (not counted per call)
    print("| response | Rasa's validate (ms) | compiled once (ms) | the project's (ms) | ratio |\n"
          "|---|---:|---:|---:|---:|")
    for name, response in RESPONSES.items():
        rasa = median_ms(lambda r: validate(r, schema), response, args.rounds)
        compiled = median_ms(lambda r: list(response_validator().iter_errors(r)), response, args.rounds)
        ours = median_ms(validate_response, response, args.rounds)
        print(f"| {name} | {rasa:.2f} | {compiled:.2f} | {ours:.3f} | {ours / rasa:.3f} |")
    print(f"\nmedians of {args.rounds} calls each, one process, same responses; ratio = the project's / Rasa's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
