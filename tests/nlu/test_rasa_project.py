"""Rasa's own checks on the project: data validation and the test stories."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.assistant import PROJECT_ROOT, train_model

pytestmark = pytest.mark.e2e  # starts a server or needs the trained model: not in make test-fast

RASA = str(Path(sys.executable).parent / "rasa")


def rasa(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run([RASA, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)


def test_rasa_data_validate():
    result = rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_stories_predicted_without_errors(tmp_path):
    model = train_model()
    result = rasa("test", "core", "--model", str(model), "--stories", "tests/test_stories.yml",
                  "--fail-on-prediction-errors", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "None of the test stories failed" in (tmp_path / "failed_test_stories.yml").read_text()
