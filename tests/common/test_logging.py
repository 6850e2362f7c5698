from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from portal.common.logging import mask_identity_numbers
from tests.support.server import portal_env, run_portal


def test_numbers_in_every_written_form_are_masked() -> None:
    text = "a 19121212-1212 b 191212121212 c 121212-1212 d 121212+1212 e 1212121212."
    masked = mask_identity_numbers(text)
    assert "1212-1212" not in masked
    assert "121212121212" not in masked
    assert masked == "a 19121212-**** b 19121212-**** c 121212-**** d 121212+**** e 121212-****."


def test_coordination_numbers_are_masked() -> None:
    assert (
        mask_identity_numbers("samordningsnummer 19700163-2392")
        == "samordningsnummer 19700163-****"
    )


def test_the_shortest_eidas_identifier_is_masked_and_shorter_text_is_kept() -> None:
    assert mask_identity_numbers("DE/SE/1") == "DE/SE/****"
    assert mask_identity_numbers("GET") == "GET"
    assert mask_identity_numbers("E/SE/1") == "E/SE/1"


def test_other_numbers_stay_readable() -> None:
    text = "order 1764331200 took 1234567890 ms; org 556677-8899; amount 19121212-1213"
    assert mask_identity_numbers(text) == text


@given(serial=st.integers(min_value=0, max_value=999))
def test_any_valid_number_inside_text_is_masked(serial: int) -> None:
    base = f"850315{serial:03d}"
    number = f"19{base}{luhn.calc_check_digit(base)}"
    assert mask_identity_numbers(f"user={number}&x=1") == f"user={number[:8]}-****&x=1"


def test_a_log_line_from_any_logger_never_carries_a_personal_number(tmp_path: Path) -> None:
    """Through the real logging configuration, in a real process: structlog, the standard
    library's loggers (as Django writes them) and a traceback all come out masked."""
    script = (
        "import logging, structlog\n"
        "structlog.get_logger('portal.test').info('login', person='19121212-1212', ids=[191212121212])\n"
        "logging.getLogger('django.request').error('Not Found: /personer/191212121212/')\n"
        "try:\n"
        "    raise ValueError('bad number 121212-1212')\n"
        "except ValueError:\n"
        "    logging.getLogger('portal.x').exception('failed')\n"
    )
    done = run_portal(["shell", "-c", script], portal_env(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert len(lines) == 3, done.stderr
    assert "1212-1212" not in done.stderr
    assert "121212121212" not in done.stderr
    assert lines[0]["person"] == "19121212-****"
    assert lines[0]["ids"] == ["19121212-****"]
    assert lines[1]["event"] == "Not Found: /personer/19121212-****/"
    assert "121212-****" in lines[2]["exception"]
    assert {line["level"] for line in lines} == {"info", "error"}
