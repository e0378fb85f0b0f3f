"""`Domain.is_empty`, asked for every message, answered once per domain.

Rasa's processor checks each parse against the domain unless the domain is empty, and Rasa's
`Domain.is_empty` builds an empty domain and turns both domains into dicts to compare them: about 1.5%
of the Rasa server's CPU under load (py-spy). A domain is not changed after it is built (Rasa makes a
new one to merge or copy), so the answer is kept on the domain object.
Replaces: `rasa.shared.core.domain:Domain.is_empty` (checked against Rasa 3.6.21).
"""

from rasa.shared.core.domain import Domain

REPLACES = {
    "rasa.shared.core.domain:Domain.is_empty": {
        "signature": "(self) -> bool",
        "sha256": "884be90ef485f1d2c0f140657a47f106a7d2785b63b03e46cd699b4072e95369",
    },
}

rasas_is_empty = Domain.is_empty
_ANSWER = "_is_empty_answer"


def is_empty(domain: Domain) -> bool:
    if _ANSWER not in domain.__dict__:
        domain.__dict__[_ANSWER] = rasas_is_empty(domain)
    return domain.__dict__[_ANSWER]


def install() -> None:
    Domain.is_empty = is_empty
