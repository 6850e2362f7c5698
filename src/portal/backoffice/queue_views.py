"""The work queues page: the cases waiting for the agency's staff, by due date."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal import audit
from portal.access.constants import Permission
from portal.audit.constants import EventType
from portal.backoffice.queues import KINDS, queues_for, visible_kinds
from portal.backoffice.screens import staff_member
from portal.common.routes import read_only, requires


@requires(Permission.BACKOFFICE_QUEUE_VIEW)
@read_only
def queues(request: HttpRequest) -> HttpResponse:
    """A section per kind of case the staff member's roles allow, or only the kind asked for
    (``?typ=``); an unknown or not allowed kind shows them all."""
    person = staff_member(request, Permission.BACKOFFICE_QUEUE_VIEW)
    visible = visible_kinds(person)
    chosen = [kind for kind in visible if kind == request.GET.get("typ", "")]
    kinds = chosen or visible
    shown = queues_for(person, kinds=kinds)
    # The page shows employers' names, case numbers and staff members' names.
    audit.record_read(
        EventType.BACKOFFICE_QUEUES_VIEWED,
        request=request,
        data={
            "kinds": [str(kind) for kind in kinds],
            "cases": sum(len(queue.items) for queue in shown),
        },
    )
    return render(
        request,
        "backoffice/queues.html",
        {
            "queues": shown,
            "choices": [(str(kind), KINDS[kind].title) for kind in visible],
            "chosen": str(chosen[0]) if chosen else "",
        },
    )
