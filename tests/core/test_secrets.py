"""Secrets too short to resist guessing stop the servers at start, with the name and the fix, never the value."""

import os
import subprocess
import sys

import pytest

from core import settings

PROJECT_ROOT = settings.PROJECT_ROOT
SECRETS = ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "DASHBOARD_SECRET", "REDIS_PASSWORD", "RABBITMQ_PASSWORD",
           "REDIS_HOST", "RABBITMQ_HOST")


@pytest.fixture
def no_secrets(monkeypatch):
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)


def test_short_tokens_and_signing_keys_are_named_without_their_values(monkeypatch, no_secrets):
    assert settings.rasa_server_secret_problems() == []
    monkeypatch.setenv("RASA_API_TOKEN", "hunter2")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "x" * 16)  # long enough
    monkeypatch.setenv("DASHBOARD_SECRET", "d" * 31)  # an HMAC-SHA256 key wants 32
    problems = settings.rasa_server_secret_problems()
    assert [problem.split(" ")[0] for problem in problems] == ["RASA_API_TOKEN", "DASHBOARD_SECRET"]
    assert settings.action_server_secret_problems() == [] and len(settings.dashboard_secret_problems()) == 1
    assert "is 7 characters; use at least 16" in problems[0] and "is 31 characters; use at least 32" in problems[1]
    assert not any("hunter2" in problem or "d" * 31 in problem for problem in problems)


def test_backing_service_passwords_are_checked_only_off_this_machine(monkeypatch, no_secrets):
    monkeypatch.setenv("REDIS_PASSWORD", "short")
    monkeypatch.setenv("RABBITMQ_PASSWORD", "short")
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("RABBITMQ_HOST", "localhost")
    assert settings.rasa_server_secret_problems() == []
    monkeypatch.setenv("REDIS_HOST", "redis.internal")
    monkeypatch.setenv("RABBITMQ_HOST", "10.0.0.8")
    names = [problem.split(" ")[0] for problem in settings.rasa_server_secret_problems()]
    assert names == ["REDIS_PASSWORD", "RABBITMQ_PASSWORD"]


@pytest.mark.parametrize("command, name, value", [
    (["actions.server"], "ACTION_SERVER_TOKEN", "too-short"),
    (["dashboard"], "DASHBOARD_SECRET", "sixteen-chars-ok-for-a-token"),
    (["ops.commands", "supervisord"], "RASA_API_TOKEN", "abc"),
    (["ops.commands", "exec", "rasa"], "DASHBOARD_SECRET", "thirty-one-characters-long-key!"),
])
def test_a_server_with_a_short_secret_does_not_start(command, name, value):
    env = {key: item for key, item in os.environ.items() if key not in SECRETS}
    env.update({"ACTION_SERVER_TOKEN": "a-long-enough-token", "DASHBOARD_SECRET": "k" * 32, name: value})
    result = subprocess.run([sys.executable, "-m", *command], cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"{name} is {len(value)} characters" in result.stderr and value not in result.stderr
    assert "Traceback" not in result.stderr
