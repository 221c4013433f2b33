"""Every change to an incident from the browser: one table of actions, each validated by
a form and carried out by one service. A refusal shows the service's message on the tab
the action belongs to and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from coordination.errors import StaleEditError
from coordination.permissions import permission_required
from coordination.web import apply_validation_error
from recalls import forms
from recalls.models import PressInquiry, RecallIncident, RecallTask, Statement
from recalls.services import communication
from recalls.services import incidents as services
from recalls.views.common import VIEW, incident_or_404, make_form
from recalls.views.detail import Bound, render_detail


@dataclass(frozen=True)
class Action:
    tab: str
    form: type
    # (actor, incident, item or None, expected_version or None, form data) -> message
    run: Callable[..., str]
    item_model: type[models.Model] | None = None


def _edit(actor, incident, item, version, data) -> str:
    services.recall_update(actor=actor, incident_id=incident.pk, expected_version=version, **data)
    return "Saved."


def _transition(actor, incident, item, version, data) -> str:
    updated = services.recall_transition(
        actor=actor, incident_id=incident.pk, expected_version=version, to=data["to"]
    )
    message = f"{updated.code} is now {updated.get_status_display().lower()}."
    if updated.status == RecallIncident.Status.ANNOUNCED:
        message += " The public notice is online."
    return message


def _stop_ship(actor, incident, item, version, data) -> str:
    services.recall_set_stop_ship(
        actor=actor, incident_id=incident.pk, expected_version=version, stop=data["stop"]
    )
    if data["stop"]:
        return "Stop-ship placed: production of the products is held and their promotions at risk."
    return "Stop-ship released: production is planned normally again."


def _add_lot(actor, incident, item, version, data) -> str:
    lot = services.lot_add(actor=actor, incident_id=incident.pk, **data)
    return f"Lot {lot} of {lot.product.sku} added."


def _effectiveness(actor, incident, item, version, data) -> str:
    services.recall_record_effectiveness(
        actor=actor, incident_id=incident.pk, expected_version=version, **data
    )
    return "Effectiveness figures saved."


def _add_task(actor, incident, item, version, data) -> str:
    task = communication.task_add(actor=actor, incident_id=incident.pk, **data)
    return f"Task added for {task.owner}."


def _complete_task(actor, incident, item, version, data) -> str:
    task = communication.task_complete(actor=actor, task_id=item.pk)
    return f"Done: {task.title}."


def _log_notification(actor, incident, item, version, data) -> str:
    notification = communication.notification_log(actor=actor, incident_id=incident.pk, **data)
    return f"Notification of {notification.consignee} logged."


def _log_press(actor, incident, item, version, data) -> str:
    inquiry = communication.press_inquiry_log(actor=actor, incident_id=incident.pk, **data)
    return f"Inquiry from {inquiry.outlet} logged."


def _answer_press(actor, incident, item, version, data) -> str:
    inquiry = communication.press_inquiry_answer(actor=actor, inquiry_id=item.pk, **data)
    return f"{inquiry.get_status_display()}: {inquiry.outlet}."


def _draft_statement(actor, incident, item, version, data) -> str:
    statement = communication.statement_draft(actor=actor, incident_id=incident.pk, **data)
    return f"Draft “{statement.title}” saved. Submit it for approval when it is ready."


def _edit_statement(actor, incident, item, version, data) -> str:
    communication.statement_edit(
        actor=actor, statement_id=item.pk, expected_version=version, **data
    )
    return "Draft saved."


def _submit_statement(actor, incident, item, version, data) -> str:
    communication.statement_submit(actor=actor, statement_id=item.pk, expected_version=version)
    return "Submitted for approval by someone other than you."


def _review_statement(actor, incident, item, version, data) -> str:
    statement = communication.statement_review(
        actor=actor, statement_id=item.pk, expected_version=version, **data
    )
    if statement.status == Statement.Status.APPROVED:
        return f"Approved “{statement.title}”: Marketing may publish it."
    return f"Sent “{statement.title}” back to its author."


def _publish_statement(actor, incident, item, version, data) -> str:
    communication.statement_publish(actor=actor, statement_id=item.pk, expected_version=version)
    return "Published: the statement is on the public notice."


ACTIONS: dict[str, Action] = {
    "edit": Action("overview", forms.RecallEditForm, _edit),
    "transition": Action("overview", forms.TransitionForm, _transition),
    "stop-ship": Action("overview", forms.StopShipForm, _stop_ship),
    "add-lot": Action("lots", forms.LotForm, _add_lot),
    "effectiveness": Action("effectiveness", forms.EffectivenessForm, _effectiveness),
    "add-task": Action("tasks", forms.TaskForm, _add_task),
    "complete-task": Action("tasks", forms.EmptyForm, _complete_task, RecallTask),
    "log-notification": Action("notifications", forms.NotificationForm, _log_notification),
    "log-press": Action("press", forms.PressInquiryForm, _log_press),
    "answer-press": Action("press", forms.PressAnswerForm, _answer_press, PressInquiry),
    "draft-statement": Action("statements", forms.StatementForm, _draft_statement),
    "edit-statement": Action("statements", forms.StatementEditForm, _edit_statement, Statement),
    "submit-statement": Action("statements", forms.StatementStepForm, _submit_statement, Statement),
    "review-statement": Action(
        "statements", forms.StatementReviewForm, _review_statement, Statement
    ),
    "publish-statement": Action(
        "statements", forms.StatementStepForm, _publish_statement, Statement
    ),
}


@require_POST
@permission_required(VIEW)
def action(request, code, action, item=None):
    spec = ACTIONS.get(action)
    if spec is None or (spec.item_model is None) != (item is None):
        raise Http404("Unknown action.")
    incident = incident_or_404(code)
    target = None
    if spec.item_model is not None:
        target = get_object_or_404(spec.item_model, pk=item, incident=incident)
    form = make_form(spec.form, action, item, data=request.POST)
    bound = Bound(action, form, item)
    if not form.is_valid():
        return render_detail(request, incident, spec.tab, bound=bound)
    data = form.service_kwargs()
    version = form.cleaned_data.get("version")
    try:
        message = spec.run(request.user, incident, target, version, data)
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return render_detail(request, incident, spec.tab, bound=bound)
    except StaleEditError as exc:
        # Show the current state (fresh forms with the new version) and say why.
        return render_detail(
            request, incident_or_404(code), spec.tab, errors=(str(exc),), status=409
        )
    except PermissionDenied as exc:
        message = str(exc) or "Your role may not do that."
        return render_detail(
            request, incident, spec.tab, bound=bound, errors=(message,), status=403
        )
    messages.success(request, message)
    return redirect("recall_tab", code=incident.code, tab=spec.tab)
