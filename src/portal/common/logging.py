"""Structured logs (structlog), one JSON object per line, with personal identity numbers (and
foreign e-IDs' eIDAS identifiers) masked.

Both structlog's own loggers and the standard library's (Django, gunicorn, httpx) go through the
same processors, so no line can leave the process without passing the masking step.
"""

from __future__ import annotations

import logging.config
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from portal.identity.eidas_identifiers import mask_eidas_identifier
from portal.identity.numbers import is_valid_personal_number

# 10 or 12 digits, optionally with a separator before the last four: 19121212-1212, 121212+1212,
# 191212121212, 1212121212. Look-arounds keep it from matching inside longer digit runs.
_CANDIDATE = re.compile(r"(?<![0-9])((?:19|20)?[0-9]{6})([-+]?)([0-9]{4})(?![0-9])")


def _mask_match(match: re.Match[str]) -> str:
    text = match.group(0)
    # Only real identity numbers (valid date or coordination day, valid check digit) are masked,
    # so timestamps and amounts stay readable.
    if is_valid_personal_number(text):
        return f"{match.group(1)}{match.group(2) or '-'}****"
    return text


# An eIDAS person identifier of a foreign e-ID (DE/SE/1234567890): issuing country, SE, identifier.
_EIDAS = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}/SE/[A-Za-z0-9+/=\-._:]+")


#: The shortest text that can hold something to mask: an eIDAS identifier such as DE/SE/1 (a
#: personal number has ten digits). Shorter values (GET, info, a status) are left as they are.
_SHORTEST = 7


def mask_identity_numbers(text: str) -> str:
    """Replace the last four digits of every personal or coordination number with ****, and
    every eIDAS person identifier with its masked form (DE/SE/****7890)."""
    if len(text) < _SHORTEST:
        return text
    if "/SE/" in text:
        text = _EIDAS.sub(lambda match: mask_eidas_identifier(match.group(0)), text)
    return _CANDIDATE.sub(_mask_match, text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_identity_numbers(value)
    if isinstance(value, Mapping):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_mask_value(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value > 10**9:
        masked = mask_identity_numbers(str(value))
        return masked if "*" in masked else value
    return value


def mask_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask identity numbers in every value, including rendered tracebacks."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask_value(value)
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_processor,
    ]


def logging_config(*, level: str, fmt: str) -> None:
    """Configure structlog and the standard library's logging to write one format to stderr.

    A line carries what its processors put in it, never where it was written from or which thread
    wrote it: the standard library is told not to look those up for each record (switches of the
    logging HOWTO's "Optimization"), which took a fifth of a line's cost. The process id stays:
    gunicorn's own log lines show it.
    """
    logging._srcfile = None  # the HOWTO's own switch: no caller lookup
    logging.logThreads = False
    logging.logMultiprocessing = False
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structured": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        renderer,
                    ],
                    "foreign_pre_chain": [
                        structlog.stdlib.ExtraAdder(),
                        *_shared_processors(),
                    ],
                }
            },
            "handlers": {
                "stderr": {"class": "logging.StreamHandler", "formatter": "structured"},
            },
            "root": {"handlers": ["stderr"], "level": level},
            "loggers": {
                # The request logger repeats what our access line says, with less context.
                "django.request": {"level": "ERROR"},
                "django.server": {"level": "WARNING"},
                "httpx": {"level": "WARNING"},
            },
        }
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
