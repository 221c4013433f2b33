"""One incident: a header with its state, and tabs loaded with htmx (each tab is also a
full page at its own address, so everything works without JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass

from django.forms import Form
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from coordination.charts import Chart, Series
from coordination.permissions import permission_required
from coordination.selectors.activity import timeline_for
from coordination.web import render_page
from recalls import forms, selectors
from recalls.models import PressInquiry, RecallIncident, Statement
from recalls.services.communication import task_may_change
from recalls.services.incidents import TRANSITIONS
from recalls.views.common import (
    ADD_TASK,
    APPROVE,
    COMMUNICATE,
    MANAGE,
    NOTIFY,
    TAB_NAMES,
    TABS,
    VIEW,
    incident_or_404,
    make_form,
)

Status = RecallIncident.Status
SStatus = Statement.Status


@dataclass
class Bound:
    """A submitted form to show again (with its errors) instead of a fresh one. `shown`
    records whether the page had a place for it; if not (the task it completed is done,
    the recall is closed...), its errors are shown at the top of the tab."""

    action: str
    form: Form
    item: int | None = None
    shown: bool = False


def _pick(bound: Bound | None, action: str, item: int | None = None) -> Form | None:
    if bound is not None and bound.action == action and bound.item == item:
        bound.shown = True
        return bound.form
    return None


def _errors_of(bound: Bound | None, action: str):
    """Errors of a button-only form (transition, stop-ship), shown beside its buttons."""
    if bound is not None and bound.action == action:
        bound.shown = True
        return bound.form.non_field_errors()
    return None


def _permissions(user, incident: RecallIncident) -> dict:
    live = incident.status != Status.CLOSED
    return {
        "manage": live and user.has_perm(MANAGE),
        "add_task": live and user.has_perm(ADD_TASK),
        "notify": live and user.has_perm(NOTIFY),
        "communicate": live and user.has_perm(COMMUNICATE),
        "approve": live and user.has_perm(APPROVE),
    }


# ------------------------------------------------------------------- tabs


def _overview(request, incident, can, bound) -> dict:
    context = {
        "events": timeline_for(incident),
        "timeline_target": incident,
        "transitions": [],
    }
    if not can["manage"]:
        return context
    context["edit_form"] = _pick(bound, "edit") or make_form(
        forms.RecallEditForm, "edit", initial=forms.RecallEditForm.initial_for(incident)
    )
    context["transitions"] = [
        {
            "to": target,
            "label": Status(target).label,
            "form": make_form(
                forms.TransitionForm,
                "transition",
                initial={"version": incident.version, "to": target},
            ),
        }
        for target in TRANSITIONS[incident.status]
    ]
    context["transition_errors"] = _errors_of(bound, "transition")
    context["stop_ship_form"] = make_form(
        forms.StopShipForm,
        "stop-ship",
        initial={"version": incident.version, "stop": "0" if incident.stop_ship else "1"},
    )
    context["stop_ship_errors"] = _errors_of(bound, "stop-ship")
    return context


def _lots(request, incident, can, bound) -> dict:
    lots = list(incident.lots.all())
    context = {
        "lots": lots,
        "lot_units": sum(lot.units for lot in lots),
        "consequences": selectors.consequences(incident),
    }
    if can["manage"]:
        form = _pick(bound, "add-lot") or make_form(forms.LotForm, "add-lot")
        context["lot_form"] = form.for_incident(incident)
    return context


def _tasks(request, incident, can, bound) -> dict:
    rows = []
    for task in incident.tasks.all():
        may_complete = incident.status != Status.CLOSED and task_may_change(request.user, task)
        rows.append(
            {
                "task": task,
                "complete_form": make_form(forms.EmptyForm, "complete-task", task.pk)
                if may_complete and task.done_at is None
                else None,
            }
        )
    context = {"task_rows": rows}
    if can["add_task"]:
        context["task_form"] = _pick(bound, "add-task") or make_form(forms.TaskForm, "add-task")
    return context


def _press(request, incident, can, bound) -> dict:
    rows = [
        {
            "inquiry": inquiry,
            "answer_form": (
                _pick(bound, "answer-press", inquiry.pk)
                or make_form(forms.PressAnswerForm, "answer-press", inquiry.pk)
            )
            if can["communicate"] and inquiry.status == PressInquiry.Status.OPEN
            else None,
        }
        for inquiry in incident.press_inquiries.all()
    ]
    context = {"press_rows": rows}
    if can["communicate"]:
        context["press_form"] = _pick(bound, "log-press") or make_form(
            forms.PressInquiryForm, "log-press"
        )
    return context


def _statement_row(request, statement: Statement, can: dict, bound) -> dict:
    mine = statement.author_id == request.user.pk
    row = {"statement": statement, "mine": mine}
    version = {"version": statement.version}
    pk = statement.pk
    editable = statement.status in (SStatus.DRAFT, SStatus.REJECTED)
    if can["communicate"] and mine and editable:
        row["edit_form"] = _pick(bound, "edit-statement", pk) or make_form(
            forms.StatementEditForm,
            "edit-statement",
            pk,
            initial={**version, "title": statement.title, "body": statement.body},
        )
        row["submit_form"] = _pick(bound, "submit-statement", pk) or make_form(
            forms.StatementStepForm, "submit-statement", pk, initial=version
        )
    if can["approve"] and not mine and statement.status == SStatus.SUBMITTED:
        row["review_form"] = _pick(bound, "review-statement", pk) or make_form(
            forms.StatementReviewForm, "review-statement", pk, initial=version
        )
    if can["communicate"] and statement.status == SStatus.APPROVED:
        row["publish_form"] = _pick(bound, "publish-statement", pk) or make_form(
            forms.StatementStepForm, "publish-statement", pk, initial=version
        )
    return row


def _statements(request, incident, can, bound) -> dict:
    context = {
        "statement_rows": [
            _statement_row(request, statement, can, bound)
            for statement in incident.statements.all()
        ]
    }
    if can["communicate"]:
        context["statement_form"] = _pick(bound, "draft-statement") or make_form(
            forms.StatementForm, "draft-statement"
        )
    return context


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def effectiveness_chart(incident: RecallIncident, eff: selectors.Effectiveness) -> dict:
    """Recovered and notified as shares of what must be reached, against the check level
    the class requires (which applies to the consignees)."""
    done = [
        _pct(eff.recovered, eff.distributed),
        _pct(eff.notified, eff.consignees),
        _pct(eff.acknowledged, eff.consignees),
    ]
    outstanding = [None if value is None else round(100 - value, 1) for value in done]
    level = float(eff.check_level_pct)
    class_label = incident.get_classification_display().split(" — ")[0]
    return Chart(
        title="Recall effectiveness: share of units recovered and consignees reached",
        categories=["Units recovered", "Consignees notified", "Receipt confirmed"],
        series=[
            Series("Done", done, "s3"),
            Series("Outstanding", outstanding, "s7"),
            Series(
                f"Check level for {class_label}: {level:g}% of consignees",
                [None, level, level],
                "capacity",
                kind="line",
                dashed=True,
            ),
        ],
        height=240,
        y_label="% of the total",
    ).render_data()


def _effectiveness(request, incident, can, bound) -> dict:
    eff = selectors.effectiveness(incident)
    context = {
        "eff": eff,
        "chart": effectiveness_chart(incident, eff),
        "acknowledged_pct": _pct(eff.acknowledged, eff.consignees),
    }
    if can["manage"]:
        context["effectiveness_form"] = _pick(bound, "effectiveness") or make_form(
            forms.EffectivenessForm,
            "effectiveness",
            initial=forms.EffectivenessForm.initial_for(incident),
        )
    return context


def _notifications(request, incident, can, bound) -> dict:
    notifications = list(incident.notifications.all())
    context = {
        "notifications": notifications,
        "acknowledged": sum(1 for n in notifications if n.acknowledged),
    }
    if can["notify"]:
        context["notification_form"] = _pick(bound, "log-notification") or make_form(
            forms.NotificationForm, "log-notification"
        )
    return context


TAB_CONTEXT = {
    "overview": _overview,
    "lots": _lots,
    "tasks": _tasks,
    "press": _press,
    "statements": _statements,
    "effectiveness": _effectiveness,
    "notifications": _notifications,
}


def _tab_badges(incident: RecallIncident) -> dict:
    tasks = list(incident.tasks.all())
    return {
        "lots": {"count": len(incident.lots.all())},
        "tasks": {
            "count": sum(1 for t in tasks if t.done_at is None),
            "alert": sum(1 for t in tasks if t.is_overdue),
        },
        "press": {
            "count": sum(
                1 for p in incident.press_inquiries.all() if p.status == PressInquiry.Status.OPEN
            ),
            "alert": sum(1 for p in incident.press_inquiries.all() if p.is_overdue),
        },
        "statements": {
            "count": sum(1 for s in incident.statements.all() if s.status == SStatus.SUBMITTED)
        },
        "notifications": {"count": len(incident.notifications.all())},
    }


def render_detail(
    request,
    incident: RecallIncident,
    tab: str,
    *,
    bound: Bound | None = None,
    errors: tuple[str, ...] = (),
    status: int = 200,
):
    can = _permissions(request.user, incident)
    badges = _tab_badges(incident)
    context = {
        "section": "recalls",
        "incident": incident,
        "tab": tab,
        "tabs": [
            {
                "name": name,
                "label": label,
                "url": reverse("recall_tab", args=[incident.code, name]),
                **badges.get(name, {}),
            }
            for name, label in TABS
        ],
        "can": can,
        "today": timezone.localdate(),
        "public_url": request.build_absolute_uri(
            reverse("recall_public_notice", args=[incident.code])
        )
        if incident.is_public
        else "",
        **TAB_CONTEXT[tab](request, incident, can, bound),
    }
    # Refusals with no form of their own on the page are shown at the top of the tab.
    context["action_errors"] = list(errors)
    if bound is not None and not bound.shown:
        context["action_errors"] += [e for errs in bound.form.errors.values() for e in errs]
    return render_page(request, "recalls/detail.html", context, partial="tab-panel", status=status)


@permission_required(VIEW)
def detail(request, code, tab="overview"):
    if tab not in TAB_NAMES:
        raise Http404("No such tab.")
    return render_detail(request, incident_or_404(code), tab)
