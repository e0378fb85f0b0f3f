"""`Domain.is_empty` kept on the domain (rasa_speedups/domain_checks.py) answers as Rasa's does, once per domain."""

import copy

from rasa.shared.core.domain import Domain

from rasa_speedups import domain_checks
from tests.assistant import PROJECT_ROOT


def test_the_kept_answer_is_rasas_and_is_worked_out_once_per_domain(monkeypatch):
    domain_checks.install()
    project, empty = Domain.load(PROJECT_ROOT / "domain.yml"), Domain.empty()
    small = Domain.from_yaml('version: "3.1"\nintents: [greet]\nresponses:\n  utter_hi: [{text: "hi"}]\n')
    for domain in (project, empty, small):
        assert domain.is_empty() == domain_checks.rasas_is_empty(domain)
    assert empty.is_empty() and not project.is_empty() and not small.is_empty()
    worked_out = []
    rasas_as_dict = Domain.as_dict
    monkeypatch.setattr(Domain, "as_dict", lambda domain: worked_out.append(domain) or rasas_as_dict(domain))
    assert [project.is_empty() for _ in range(3)] == [False] * 3
    assert worked_out == []  # answered above: kept
    fresh = copy.deepcopy(project)
    assert [fresh.is_empty() for _ in range(3)] == [False] * 3
    assert sum(domain is fresh for domain in worked_out) == 1  # a new domain works it out once (Rasa: 3 times)
