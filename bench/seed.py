"""The load bench's world, written fast with PostgreSQL's COPY (``bench/load.py`` uses it).

Everything is deterministic: employer ``n`` and its people have public ids derived from ``n``, so
that the audit events can name employers before they are written and the locust personas can be
made without reading the tables back. Run with Django set up on a PostgreSQL database of the
bench's own (it adds rows and never removes any).

Per employer (``grow``): 50 people, each with one membership: two access administrators (people 0
and 1), 48 users. The users' grants, as an employer's look after a while:

- sick-leave report: submit for most, view for every third but person 2 (PERSONA_USERS);
- inquiries: submit or view, every other person;
- work aids: submit for every fourth;
- people 45-49 have no grants (new colleagues: the administrators' load gives and revokes theirs);
- every tenth person also has a revoked work-aids grant from last year (history).

About one membership in twenty ends in the next months (a date of its own).
``audit_events`` copies the audit log's rows as ``bench/audit.py`` does (the same columns), spread
over the past 30 days, naming the employers' public ids and their administrators as actors.
``personas`` logs people in as ``identity.services._login`` would leave them (a completed e-ID
order, a login record, a database session with the auth keys, the login id and the session's
start and last-seen times) and returns what the locust users need: the session cookie, a CSRF
secret, the employer and, for administrators, the people whose access they change.
"""

from __future__ import annotations

import json
import random
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from stdnum import luhn

from portal.audit import SESSION_LOGIN_KEY
from portal.audit.constants import ActorKind, EventType, outcome_of
from portal.common.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY
from portal.identity.backends import PERSON_BACKEND
from portal.identity.models import EidTransaction, Login, Person, Session
from portal.identity.sessions import SessionStore

PEOPLE_PER_EMPLOYER = 50
ADMINISTRATORS = (0, 1)
#: People without grants: the administrators' load gives and revokes their work-aids grant.
GRANTLESS = range(45, 50)
#: The users whose sessions the load's e-service users get, in turn when several are at one
#: employer (so that no two share a person and with it a draft): all may submit sick reports.
PERSONA_USERS = tuple(
    k
    for k in range(2, GRANTLESS.start)
    if k % 3 != 0 or k == 2  # noqa: PLR2004 (every third has view only, but person 2)
)
NAMESPACE = uuid.UUID("6f1c2a4e-8b7d-4f3a-9c2e-5d1b0a9e7c31")
CHUNK = 20_000
UNUSABLE_PASSWORD = "!"  # noqa: S105 (nobody has a password: everyone logs in with e-ID)

GIVEN_NAMES = (
    "Anna", "Lars", "Maria", "Erik", "Karin", "Anders", "Sara", "Johan", "Eva", "Per", "Lena",
    "Mikael", "Åsa", "Björn", "Ingrid", "Örjan", "Elin", "Nils", "Sofia", "Jonas",
)  # fmt: skip
SURNAMES = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
    "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Öberg", "Åkesson", "Lindqvist",
    "Berg", "Holm", "Ström", "Sandberg", "Forsberg", "Lundgren", "Hedlund", "Ekström",
)  # fmt: skip
REASONS = ("Ny på löneavdelningen", "Byter arbetsuppgifter", "Vikarie", "Sköter anmälningarna")


def employer_public_id(n: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"employer:{n}")


def person_public_id(employer: int, k: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"person:{employer}:{k}")


def organisation_number(n: int) -> str:
    base = f"55{n:07d}"  # fictional, Luhn-valid, "55": limited companies
    return base + luhn.calc_check_digit(base)


def personal_number(p: int) -> str:
    """Person ``p`` (0, 1, ...): fictional, Luhn-valid, born 1940 or later, 900 a day."""
    born = date(1940, 1, 1) + timedelta(days=p // 900)
    base = f"{born:%y%m%d}{100 + p % 900:03d}"
    return f"{born:%Y}"[:2] + base + luhn.calc_check_digit(base)


def employers_now() -> int:
    from portal.employers.models import Employer  # noqa: PLC0415

    return Employer.objects.count()


def grow(total: int) -> dict[str, Any]:
    """Add employers (with their people, memberships and grants) until there are ``total``."""
    first = employers_now()
    if first >= total:
        return {"employers": first, "added": 0, "seconds": 0.0}
    started = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM identity_person")
        person_base = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM access_membership")
        membership_base = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM employers_employer")
        employer_base = cursor.fetchone()[0] + 1
        for start in range(first, total, CHUNK // PEOPLE_PER_EMPLOYER):
            end = min(total, start + CHUNK // PEOPLE_PER_EMPLOYER)
            _copy_employers(cursor, start, end, employer_base - first, now)
            _copy_people(cursor, start, end, person_base - first * PEOPLE_PER_EMPLOYER, now)
            _copy_memberships(
                cursor,
                start,
                end,
                ids=(
                    employer_base - first,
                    person_base - first * PEOPLE_PER_EMPLOYER,
                    membership_base - first * PEOPLE_PER_EMPLOYER,
                ),
                now=now,
            )
            _copy_grants(
                cursor,
                start,
                end,
                membership_base - first * PEOPLE_PER_EMPLOYER,
                now=now,
                today=today,
            )
        for table in ("identity_person", "access_membership", "employers_employer"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608 (the bench's own table names)
            )
    _analyze()
    return {
        "employers": total,
        "added": total - first,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _copy_employers(cursor: Any, start: int, end: int, id_offset: int, now: datetime) -> None:
    columns = (
        "id, public_id, organisation_number, name, legal_form, state, state_changed_at, created_at"
    )
    with cursor.copy(f"COPY employers_employer ({columns}) FROM STDIN") as copy:
        for n in range(start, end):
            copy.write_row((
                id_offset + n, employer_public_id(n), organisation_number(n),
                f"Bänkbolaget {n} AB", "AB", "active", now - timedelta(days=400), now,
            ))  # fmt: skip


def _copy_people(cursor: Any, start: int, end: int, id_offset: int, now: datetime) -> None:
    columns = (
        "id, password, public_id, personal_number, given_name, surname, email, is_active, "
        "created_at"
    )
    with cursor.copy(f"COPY identity_person ({columns}) FROM STDIN") as copy:
        for n in range(start, end):
            for k in range(PEOPLE_PER_EMPLOYER):
                p = n * PEOPLE_PER_EMPLOYER + k
                copy.write_row((
                    id_offset + p, UNUSABLE_PASSWORD, person_public_id(n, k), personal_number(p),
                    GIVEN_NAMES[p % len(GIVEN_NAMES)], SURNAMES[(p // 3) % len(SURNAMES)],
                    f"person{k}@bankbolaget{n}.example.se", True, now - timedelta(days=300),
                ))  # fmt: skip


def _copy_memberships(
    cursor: Any, start: int, end: int, *, ids: tuple[int, int, int], now: datetime
) -> None:
    employer_offset, person_offset, membership_offset = ids
    columns = (
        "id, role, email, valid_from, valid_until, reason, created_at, end_reason, employer_id, "
        "person_id, last_reviewed_at"
    )
    with cursor.copy(f"COPY access_membership ({columns}) FROM STDIN") as copy:
        for n in range(start, end):
            for k in range(PEOPLE_PER_EMPLOYER):
                p = n * PEOPLE_PER_EMPLOYER + k
                since = now - timedelta(days=30 + p % 700)
                # One in twenty ends within the coming months.
                until = now + timedelta(days=10 + p % 170) if p % 20 == 7 else None  # noqa: PLR2004
                role = "administrator" if k in ADMINISTRATORS else "user"
                copy.write_row((
                    membership_offset + p, role, "", since, until, REASONS[p % len(REASONS)],
                    since, "", employer_offset + n, person_offset + p, since + timedelta(days=20),
                ))  # fmt: skip


def _copy_grants(
    cursor: Any, start: int, end: int, membership_offset: int, *, now: datetime, today: date
) -> None:
    columns = (
        "public_id, eservice, level, valid_from, valid_until, reason, created_at, ended_at, "
        "end_reason, membership_id"
    )
    with cursor.copy(f"COPY access_grant ({columns}) FROM STDIN") as copy:
        for n in range(start, end):
            for k in range(PEOPLE_PER_EMPLOYER):
                if k in ADMINISTRATORS or k in GRANTLESS:
                    continue
                p = n * PEOPLE_PER_EMPLOYER + k
                membership = membership_offset + p
                since = today - timedelta(days=20 + p % 600)
                created = now - timedelta(days=20 + p % 600)
                reason = REASONS[p % len(REASONS)]
                grants = [("sick_report", "submit" if k in PERSONA_USERS else "view")]
                if k % 2 == 0:
                    grants.append(("inquiries", "submit" if k % 4 == 0 else "view"))
                if k % 4 == 1:
                    grants.append(("work_aids", "submit"))
                for eservice, level in grants:
                    copy.write_row((
                        uuid.uuid4(), eservice, level, since, None, reason, created, None, "",
                        membership,
                    ))  # fmt: skip
                if k % 10 == 3:  # noqa: PLR2004 (history: a grant revoked last year)
                    copy.write_row((
                        uuid.uuid4(), "work_aids", "view", since - timedelta(days=400),
                        since - timedelta(days=30), reason, created - timedelta(days=400),
                        created - timedelta(days=200), "Slutade på avdelningen", membership,
                    ))  # fmt: skip


def audit_events(count: int, employers: int) -> dict[str, Any]:
    """Copy ``count`` audit events naming employers 0 .. ``employers`` - 1 (which need not exist
    yet) with actors among the administrators of those that do; ANALYZE after."""
    started = time.perf_counter()
    existing = employers_now()
    actors = list(
        Person.objects.filter(
            public_id__in=[person_public_id(n, 0) for n in range(min(existing, 1000))]
        ).values_list("id", flat=True)
    )
    refs = [str(employer_public_id(n)) for n in range(employers)]
    types = [
        EventType.EMPLOYER_VIEWED, EventType.ACCESS_PEOPLE_VIEWED, EventType.GRANT_CREATED,
        EventType.GRANT_REVOKED, EventType.SUBMISSION_RECEIVED, EventType.SUBMISSIONS_LISTED,
    ]  # fmt: skip
    agents = [uuid.uuid4().hex * 2 for _ in range(5)]  # 64 hex digits, as a SHA-256
    columns = (
        "occurred_at, event_type, actor_kind, actor_id, object_type, object_id, employer_ref, "
        "data, request_id, ip_address, login_id, outcome, user_agent_hash"
    )
    end = timezone.now() - timedelta(hours=1)
    step = timedelta(days=30) / max(1, count)
    first = end - step * count
    with connection.cursor() as cursor:
        for chunk in range(0, count, CHUNK * 5):
            with (
                transaction.atomic(),
                cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy,
            ):
                for n in range(chunk, min(count, chunk + CHUNK * 5)):
                    kind = types[n % len(types)]
                    ref = refs[n % len(refs)]
                    data = {"eservice": ("sick_report", "inquiries", "work_aids")[n % 3], "n": n}
                    copy.write_row((
                        first + step * n, kind.value, ActorKind.PERSON.value,
                        actors[n % len(actors)], "employer", ref, ref, json.dumps(data),
                        f"{n:032x}", f"198.51.100.{n % 256}", n // 50, outcome_of(kind).value,
                        agents[n % len(agents)],
                    ))  # fmt: skip
        cursor.execute("ANALYZE audit_auditevent")
    return {"events": count, "seconds": round(time.perf_counter() - started, 1)}


def _analyze() -> None:
    # As autovacuum would in production: the planner needs the new rows' statistics.
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE employers_employer, identity_person, access_membership, access_grant"
        )


@dataclass
class Persona:
    kind: str  # "admin" or "user"
    employer: str
    session: str
    csrf: str
    targets: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "employer": self.employer,
            "session": self.session,
            "csrf": self.csrf,
            "targets": self.targets,
        }


def personas(count: int, *, seed: int) -> list[Persona]:
    """``count`` administrators and ``count`` users of employers spread over the whole table (each
    administrator at an employer of their own, each user too, while there are enough; then two
    administrators per employer, each changing the access of people of their own, and users in
    turn from PERSONA_USERS), logged in."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible sample, not a secret)
    total = employers_now()
    chosen = rng.sample(range(total), min(total, count))
    wanted: list[tuple[str, int, int]] = []
    for i in range(count):
        n, turn = chosen[i % len(chosen)], i // len(chosen)
        wanted.append(("admin", n, ADMINISTRATORS[turn % len(ADMINISTRATORS)]))
        wanted.append(("user", n, PERSONA_USERS[turn % len(PERSONA_USERS)]))
    people = Person.objects.in_bulk(
        [person_public_id(n, k) for _kind, n, k in wanted], field_name="public_id"
    )
    now = timezone.now()
    orders, logins, sessions, result = [], [], [], []
    for _kind, n, k in wanted:
        person = people[person_public_id(n, k)]
        orders.append(
            EidTransaction(
                purpose=EidTransaction.Purpose.LOGIN,
                provider="bankid",
                transaction_id=str(uuid.uuid4()),
                status=EidTransaction.Status.COMPLETE,
                assurance="loa3",
                session_binding=secrets.token_hex(32),
                end_user_ip="127.0.0.1",
                finished_at=now,
                consumed_at=now,
                person=person,
            )
        )
    EidTransaction.objects.bulk_create(orders)
    keys = [get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789") for _ in wanted]
    for (_kind, _n, _k), order, key in zip(wanted, orders, keys, strict=True):
        logins.append(
            Login(
                person=order.person,
                transaction=order,
                issuer="bankid",
                assurance="loa3",
                ip_address="127.0.0.1",
                user_agent="locust",
                session_key=key,
            )
        )
    Login.objects.bulk_create(logins)
    store = SessionStore()
    expires = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    for (kind, n, k), login, key in zip(wanted, logins, keys, strict=True):
        person = login.person
        data = {
            SESSION_KEY: str(person.pk),
            BACKEND_SESSION_KEY: PERSON_BACKEND,
            HASH_SESSION_KEY: person.get_session_auth_hash(),
            SESSION_LOGIN_KEY: login.pk,
            SESSION_STARTED_KEY: time.time(),
            SESSION_SEEN_KEY: time.time(),
        }
        sessions.append(
            Session(
                session_key=key,
                session_data=store.encode(data),
                expire_date=expires,
                person=person,
            )
        )
        result.append(
            Persona(
                kind=kind,
                employer=str(employer_public_id(n)),
                session=key,
                csrf=get_random_string(32),
                # Two administrators of one employer never change the same people's access.
                targets=[
                    str(person_public_id(n, t))
                    for t in GRANTLESS
                    if kind == "admin" and t % len(ADMINISTRATORS) == ADMINISTRATORS.index(k)
                ],
            )
        )
    Session.objects.bulk_create(sessions)
    return result
