"""The access review page (R8): the administrators confirm or remove each person's access.

One page lists everyone with an open membership, each membership (administrator, user with its
e-services) with a choice: keep it, remove it (with a reason), or decide later. The decisions are
applied together by ``reviews.review_decide_many``, all or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from portal import audit
from portal.access import reviews, selectors
from portal.access.administration import MAX_REASON_LENGTH
from portal.access.constants import Permission
from portal.access.models import ReviewDecision
from portal.access.services import can
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError
from portal.common.routes import requires
from portal.identity.eidas_identifiers import person_masked
from portal.identity.models import Person

LATER = ""
CONFIRM_REST = "confirm-rest"
Decision = ReviewDecision.Decision


class ReviewForm(forms.Form):
    """A decision and a reason per undecided membership, named by person and role."""

    def __init__(self, *args: Any, items: list[reviews.ReviewItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            person = item.membership.person
            name = person.full_name or person_masked(person)
            role = item.membership.get_role_display()
            self.fields[f"decision-{item.key}"] = forms.ChoiceField(
                label=_("%(name)s som %(role)s") % {"name": name, "role": role},
                choices=[
                    (LATER, gettext_lazy("Bestäm senare")),
                    (Decision.CONFIRM, gettext_lazy("Behåll")),
                    (Decision.REMOVE, gettext_lazy("Ta bort")),
                ],
                required=False,
                initial=LATER,
                widget=forms.RadioSelect,
            )
            self.fields[f"reason-{item.key}"] = forms.CharField(
                label=_("Skäl, om behörigheten för %(name)s som %(role)s tas bort")
                % {"name": name, "role": role},
                help_text=gettext_lazy("Skälet sparas i loggen."),
                required=False,
                max_length=MAX_REASON_LENGTH,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for item in self.items:
            decision = cleaned.get(f"decision-{item.key}")
            reason = (cleaned.get(f"reason-{item.key}") or "").strip()
            if decision == Decision.REMOVE and not reason:
                self.add_error(
                    f"reason-{item.key}",
                    _("Skriv varför behörigheten tas bort. Skälet sparas i loggen."),
                )
        return cleaned

    def choices(self, *, confirm_rest: bool) -> list[reviews.ReviewChoice]:
        """The decisions made; with ``confirm_rest``, "decide later" means keep."""
        result = []
        for item in self.items:
            decision = self.cleaned_data.get(f"decision-{item.key}") or LATER
            if decision == LATER and confirm_rest:
                decision = Decision.CONFIRM
            if decision != LATER:
                result.append(
                    reviews.ReviewChoice(
                        item.membership, decision, self.cleaned_data.get(f"reason-{item.key}", "")
                    )
                )
        return result


@dataclass(frozen=True)
class ItemOnPage:
    item: reviews.ReviewItem
    decision_field: forms.BoundField | None
    reason_field: forms.BoundField | None


@dataclass(frozen=True)
class PersonOnPage:
    person: Person
    items: list[ItemOnPage]


def _actor(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)  # noqa: S101 (requires() guarantees a logged-in person)
    return request.user


def _outcome_message(outcome: reviews.ReviewOutcome) -> str:
    parts = []
    if outcome.confirmed:
        parts.append(
            ngettext(
                "%(count)d behörighet behålls.",
                "%(count)d behörigheter behålls.",
                outcome.confirmed,
            )
            % {"count": outcome.confirmed}
        )
    if outcome.restored:
        parts.append(
            ngettext(
                "%(count)d vilande behörighet gäller igen.",
                "%(count)d vilande behörigheter gäller igen.",
                outcome.restored,
            )
            % {"count": outcome.restored}
        )
    if outcome.removed:
        parts.append(
            ngettext(
                "%(count)d behörighet är borttagen.",
                "%(count)d behörigheter är borttagna.",
                outcome.removed,
            )
            % {"count": outcome.removed}
        )
    if outcome.completed:
        parts.append(_("Granskningen är klar."))
        if outcome.next_review is not None:
            parts.append(
                _("Nästa granskning ska vara klar senast %(date)s.")
                % {"date": outcome.next_review.due_on.isoformat()}
            )
    return " ".join([_("Besluten är sparade."), *parts])


@requires(Permission.ACCESS_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def review_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    actor = _actor(request)
    review = reviews.review_open(employer)
    people = reviews.review_people(employer, review)
    if request.method != "POST":
        audit.record_read(EventType.REVIEW_VIEWED, request=request, employer=employer)
    undecided = [item for row in people for item in row.items if item.decision is None]
    form = ReviewForm(request.POST if request.method == "POST" else None, items=undecided)
    if request.method == "POST" and form.is_valid():
        confirm_rest = request.POST.get("action") == CONFIRM_REST
        choices = form.choices(confirm_rest=confirm_rest)
        if not choices:
            form.add_error(
                None,
                _("Välj Behåll eller Ta bort för minst en behörighet.")
                if undecided
                else _("Det finns inget kvar att granska."),
            )
        else:
            try:
                outcome = reviews.review_decide_many(
                    employer=employer, choices=choices, actor=actor, request=request
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _outcome_message(outcome))
                if not can(actor, Permission.ACCESS_MANAGE, employer=employer):
                    # The administrator removed their own role: the page is no longer theirs.
                    return redirect("employers:overview")
                return redirect("access:review", public_id=employer.public_id)
    return render(
        request,
        "access/review.html",
        {
            "employer": employer,
            "review": review,
            "status": reviews.review_status(employer),
            "people": [
                PersonOnPage(
                    person=row.person,
                    items=[
                        ItemOnPage(
                            item=item,
                            decision_field=form[f"decision-{item.key}"]
                            if item.decision is None
                            else None,
                            reason_field=form[f"reason-{item.key}"]
                            if item.decision is None
                            else None,
                        )
                        for item in row.items
                    ],
                )
                for row in people
            ],
            "undecided": len(undecided),
            "removed": reviews.review_removed(review),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
