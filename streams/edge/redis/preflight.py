"""Redis checked before the worker or a tool starts, so bad configuration ends with a
sentence, not a traceback: which address does not answer, which variable sets it, what to do."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

from streams.exceptions import ConfigurationError
from streams.settings import Settings


def sync_client(settings: Settings) -> redis.Redis:
    """A blocking client of ``REBOUND_REDIS_URL`` (the tools, the worker's start)."""
    return redis.Redis.from_url(settings.redis_url)


def check_redis(settings: Settings) -> None:
    """Raise ``ConfigurationError`` unless Redis at ``REBOUND_REDIS_URL`` answers a PING."""
    where = redis_address(settings.redis_url)
    try:
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=3, socket_connect_timeout=3
        )
        client.ping()
        client.close()
    except (ValueError, TypeError) as exc:  # redis-py: TypeError for an option it does not know
        raise ConfigurationError(
            f"REBOUND_REDIS_URL is not a valid Redis URL ({exc}); e.g. redis://127.0.0.1:6379/0, "
            "or rediss://user:password@host:6379/0?ssl_ca_certs=/path/ca.pem for TLS"
        ) from None
    except redis.AuthenticationError:
        raise ConfigurationError(
            f"Redis at {where} refused the credentials in REBOUND_REDIS_URL"
        ) from None
    except redis.RedisError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise ConfigurationError(
                f"the TLS certificate of Redis at {where} is not trusted: add the server's CA "
                "to REBOUND_REDIS_URL as ?ssl_ca_certs=/path/ca.pem"
            ) from None
        tls_hint = (
            ""
            if settings.redis_url.startswith("rediss:")
            else "If the server speaks TLS, the URL starts with rediss://. "
        )
        raise ConfigurationError(
            f"cannot reach Redis at {where} (REBOUND_REDIS_URL): {type(exc).__name__}. "
            f"{tls_hint}Is the server running and reachable from here? Start one "
            "(`redis-server --port 6379`, Debian's redis-server package) or set "
            "REBOUND_REDIS_URL to yours (redis://host:6379/0). `make run` starts a whole local "
            "stack, a worker included."
        ) from None


def redis_address(url: str) -> str:
    """``host:port/db`` of a Redis URL, without the password."""
    parts = urlsplit(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}{parts.path or '/0'}"
