"""System checks: every registered message type's templates exist and compile.

A missing template would otherwise surface only when the first message of that type is enqueued.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.template import Engine, TemplateDoesNotExist, TemplateSyntaxError

from portal.messaging.templates import registered_templates


def check_message_templates(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    engine = Engine.get_default()
    problems: list[checks.CheckMessage] = []
    for entry in registered_templates():
        names = [entry.subject_template, entry.body_template]
        if entry.html_template:
            names.append(entry.html_template)
        for name in names:
            try:
                engine.get_template(name)
            except TemplateDoesNotExist:
                problems.append(
                    checks.Error(
                        f"message type {entry.code!r}: template {name!r} does not exist",
                        id="messaging.E001",
                    )
                )
            except TemplateSyntaxError as error:
                problems.append(
                    checks.Error(
                        f"message type {entry.code!r}: template {name!r} does not compile: {error}",
                        id="messaging.E002",
                    )
                )
    return problems
