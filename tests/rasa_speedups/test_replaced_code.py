"""What the speed-ups (and the two channel add-ons that wrap Rasa's code) replace is still the Rasa code
they were written against: each replaced function's signature and source hash, read in a process with
Rasa as shipped, is the one its module records. When this fails after upgrading Rasa, read Rasa's new
code, check the module against it, then record the new values (the failure prints them)."""

import json
import subprocess
import sys
import textwrap

import pytest
import rasa

import rasa_speedups
from channels import action_guard, json_redis_manager, session_start, tracker_store, websocket_receive
from tests.assistant import PROJECT_ROOT

RECORDING_MODULES = (*rasa_speedups.modules(), action_guard, json_redis_manager, session_start, tracker_store,
                     websocket_receive)


def recorded() -> dict:
    return {target: record for module in RECORDING_MODULES for target, record in module.REPLACES.items()}


def fingerprints_in_rasa_as_shipped(targets) -> dict:
    """Each target's fingerprint, read in a fresh process that has imported none of the project's patches."""
    script = textwrap.dedent("""
        import json, sys
        from rasa_speedups import fingerprint
        import rasa.core.actions.action  # Rasa as shipped: nothing of the project's installed
        assert not getattr(rasa.core.actions.action.RemoteAction.run, "guarded", False)
        print(json.dumps({target: fingerprint(target) for target in json.loads(sys.argv[1])}))
    """)
    result = subprocess.run([sys.executable, "-c", script, json.dumps(sorted(targets))], capture_output=True,
                            text=True, cwd=PROJECT_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_installed_rasa_is_the_version_the_speedups_were_checked_against():
    assert rasa.__version__ == rasa_speedups.RASA_VERSION_CHECKED


def test_every_replaced_piece_of_rasa_still_has_the_recorded_signature_and_source():
    records = recorded()
    assert len(records) >= 14
    current = fingerprints_in_rasa_as_shipped(records)
    changed = {target: current[target] for target, record in records.items() if current[target] != record}
    assert not changed, ("Rasa code the project replaces has changed; check these modules against it, then record "
                         f"the new values: {json.dumps(changed, indent=2)}")


@pytest.mark.parametrize("module", RECORDING_MODULES, ids=lambda module: module.__name__)
def test_each_module_states_what_it_replaces_and_the_rasa_version(module):
    doc = " ".join(module.__doc__.split())
    assert "Replaces: " in doc and f"checked against Rasa {rasa_speedups.RASA_VERSION_CHECKED}" in doc
    for target in module.REPLACES:
        assert f"`{target.split(':')[0]}" in doc and target.rsplit(".", 1)[-1].split(":")[-1] in doc, target


def test_the_fingerprint_changes_when_the_source_or_the_signature_does(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    versions = {"before": "def answer(self, text):\n    return text\n",
                "body": "def answer(self, text):\n    return text.strip()\n",
                "signature": "def answer(self, text, language=None):\n    return text\n"}
    seen = {}
    for name, source in versions.items():
        (tmp_path / f"rasa_like_{name}.py").write_text(f"class Runner:\n{textwrap.indent(source, '    ')}")
        seen[name] = rasa_speedups.fingerprint(f"rasa_like_{name}:Runner.answer")
    assert seen["before"]["signature"] == "(self, text)"
    assert seen["body"]["signature"] == seen["before"]["signature"]
    assert seen["body"]["sha256"] != seen["before"]["sha256"]
    assert seen["signature"]["signature"] != seen["before"]["signature"]


def test_speedups_off_installs_none_of_them(monkeypatch):
    monkeypatch.setenv("RASA_SPEEDUPS", "off")
    assert not rasa_speedups.enabled()
    monkeypatch.setenv("RASA_SPEEDUPS", "sometimes")
    with pytest.raises(ValueError, match="RASA_SPEEDUPS must be on or off"):
        rasa_speedups.enabled()
