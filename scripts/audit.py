"""Known vulnerabilities in what the project installs: pip-audit for .venv, npm audit for the widget.

    .venv/bin/python scripts/audit.py        (make audit; make test runs it first)

Each audit needs its advisory database (PyPI's or OSV's, npm's). Where it cannot be reached, as on a
machine with only a package mirror, the audit is skipped with a notice saying so; where it can, a
known vulnerability fails the run, naming the package, the advisory and the fixed versions. An
advisory the project has looked at and accepts is listed, with why, in requirements/audit-accepted.txt
(`ID  # reason`); pip-audit runs from its own environment, .venv-audit, as its dependencies conflict
with Rasa's pins.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
AUDIT_PYTHON = ROOT / ".venv-audit" / "bin" / "pip-audit"
ACCEPTED = ROOT / "requirements" / "audit-accepted.txt"
SKIPPED, PASSED, FAILED = "skipped", "passed", "failed"


def accepted_ids(text: str) -> List[str]:
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def pip_verdict(report: dict, accepted: List[str]) -> Tuple[str, List[str]]:
    """pip-audit's JSON report: failed (known vulnerabilities), skipped (nothing could be looked up), or
    passed."""
    dependencies = report.get("dependencies", [])
    audited = [dependency for dependency in dependencies if "skip_reason" not in dependency]
    if not audited:
        return SKIPPED, ["pip-audit: the advisory database could not be reached; Python packages not audited"]
    found = [f"{dependency['name']} {dependency.get('version', '')}: {vuln['id']} (fixed in "
             f"{', '.join(vuln.get('fix_versions') or ['no release yet'])})"
             for dependency in audited for vuln in dependency.get("vulns", [])
             if vuln["id"] not in accepted and not set(vuln.get("aliases", [])) & set(accepted)]
    if found:
        return FAILED, ["pip-audit: known vulnerabilities:", *(f"  {line}" for line in found)]
    return PASSED, [f"pip-audit: {len(audited)} Python packages, no known vulnerability"
                    f" ({len(dependencies) - len(audited)} not found in the database)"]


def npm_verdict(report: dict, accepted: List[str]) -> Tuple[str, List[str]]:
    """`npm audit --json`'s report, the same three ways."""
    if "vulnerabilities" not in report:
        reason = report.get("message") or (report.get("error") or {}).get("summary") or "no report"
        return SKIPPED, [f"npm audit: the advisory database could not be reached ({reason}); the widget not audited"]
    found = []
    for name, entry in sorted(report["vulnerabilities"].items()):
        advisories = [via for via in entry.get("via", []) if isinstance(via, dict)]
        ids = [str(via.get("url") or via.get("source")) for via in advisories]
        if advisories and all(any(item.endswith(accepted_id) for accepted_id in accepted) for item in ids):
            continue
        through = ", ".join(ids) or "through " + ", ".join(map(str, entry.get("via", [])))
        found.append(f"{name} ({entry.get('severity')}): {through}")
    if found:
        return FAILED, ["npm audit: known vulnerabilities:", *(f"  {line}" for line in found)]
    return PASSED, ["npm audit: the widget's packages, no known vulnerability"]


def run_json(command: List[str], cwd: Path) -> Optional[dict]:
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as problem:
        print(f"notice: {command[0]} could not run ({problem})")
        return None
    try:
        return json.loads(result.stdout)
    except ValueError:
        return {"message": (result.stderr.strip().splitlines() or ["no output"])[-1]}


def main() -> int:
    accepted = accepted_ids(ACCEPTED.read_text(encoding="utf-8")) if ACCEPTED.exists() else []
    verdicts = []
    if AUDIT_PYTHON.exists():
        frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True,
                                text=True, check=True).stdout
        pinned = ROOT / ".venv-audit" / "installed.txt"
        pinned.write_text("\n".join(line for line in frozen.splitlines() if "==" in line) + "\n", encoding="utf-8")
        report = run_json([str(AUDIT_PYTHON), "-r", str(pinned), "--no-deps", "--disable-pip", "--progress-spinner",
                           "off", "-f", "json"], ROOT)
        verdicts.append(pip_verdict(report or {}, accepted))
    else:
        verdicts.append((SKIPPED, ["pip-audit: .venv-audit is missing (scripts/setup.sh makes it)"]))
    report = run_json(["npm", "audit", "--json", "--omit=dev"], ROOT / "web")
    verdicts.append(npm_verdict(report or {}, accepted))
    for status, lines in verdicts:
        for line in lines:
            print(f"{'notice: ' if status == SKIPPED else ''}{line}")
    return 1 if any(status == FAILED for status, _ in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
