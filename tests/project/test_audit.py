"""scripts/audit.py's verdicts on pip-audit's and npm audit's reports: a known vulnerability fails, an
unreachable database is a notice, an accepted advisory is let through."""

import importlib.util

from tests.assistant import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("audit", PROJECT_ROOT / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

UNREACHABLE_PIP = {"dependencies": [{"name": "rasa", "skip_reason": "Dependency not found on PyPI and could not be "
                                                                   "audited: rasa (3.6.21)"}], "fixes": []}
VULNERABLE_PIP = {"dependencies": [
    {"name": "jinja2", "version": "3.1.2", "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"],
                                                      "aliases": ["CVE-2024-22195"]}]},
    {"name": "requests", "version": "2.32.0", "vulns": []},
    {"name": "tensorflow", "skip_reason": "not found"}], "fixes": []}


def test_pip_audit_without_its_database_is_a_notice_and_a_known_vulnerability_fails():
    assert audit.pip_verdict(UNREACHABLE_PIP, [])[0] == audit.SKIPPED
    status, lines = audit.pip_verdict(VULNERABLE_PIP, [])
    assert status == audit.FAILED and "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in "\n".join(lines)
    assert audit.pip_verdict(VULNERABLE_PIP, ["CVE-2024-22195"])[0] == audit.PASSED
    assert audit.pip_verdict({"dependencies": [{"name": "requests", "version": "2.32.0", "vulns": []}]}, [])[0] == \
        audit.PASSED


def test_npm_audit_without_its_database_is_a_notice_and_a_known_vulnerability_fails():
    unreachable = {"message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/"
                              "bulk", "statusCode": 405, "error": {"summary": "", "detail": ""}}
    assert audit.npm_verdict(unreachable, [])[0] == audit.SKIPPED
    vulnerable = {"vulnerabilities": {"axios": {"severity": "high", "via": [
        {"source": 1097679, "url": "https://github.com/advisories/GHSA-wf5p-g6vw-rhxx"}]}}}
    status, lines = audit.npm_verdict(vulnerable, [])
    assert status == audit.FAILED and "axios (high): https://github.com/advisories/GHSA-wf5p-g6vw-rhxx" in lines[1]
    assert audit.npm_verdict(vulnerable, ["GHSA-wf5p-g6vw-rhxx"])[0] == audit.PASSED
    assert audit.npm_verdict({"vulnerabilities": {}}, [])[0] == audit.PASSED


def test_accepted_advisories_are_read_with_their_reasons():
    assert audit.accepted_ids("# header\nGHSA-1  # why, 2026-12-07\n\nCVE-2 # other\n") == ["GHSA-1", "CVE-2"]
