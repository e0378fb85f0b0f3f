"""Redis on another machine needs a password; the password is escaped into the URL."""

import pytest
from rasa.utils.endpoints import EndpointConfig

from channels.lock_store import AtomicRedisLockStore
from core import settings


@pytest.mark.parametrize("host", ["redis.internal", "10.0.0.7", "micromasters-redis"])
def test_a_redis_elsewhere_without_a_password_is_refused(monkeypatch, host):
    monkeypatch.setenv("REDIS_HOST", host)
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="REDIS_PASSWORD must be set"):
        settings.redis_url()
    with pytest.raises(ValueError, match="REDIS_PASSWORD must be set"):
        AtomicRedisLockStore(EndpointConfig(url=host, password=""))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_a_redis_on_this_machine_may_go_without(monkeypatch, host):
    monkeypatch.setenv("REDIS_HOST", host)
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    expected = f"[{host}]" if ":" in host else host
    assert settings.redis_url() == f"redis://{expected}:6379/0"


def test_the_password_is_escaped_in_the_url(monkeypatch):
    monkeypatch.setenv("REDIS_HOST", "redis.internal")
    monkeypatch.setenv("REDIS_PASSWORD", "p@ss/w:rd-0123456789")
    assert settings.redis_url() == "redis://:p%40ss%2Fw%3Ard-0123456789@redis.internal:6379/0"
