"""The planning review's pages (monthly sales and operations review)."""

from django.urls import path

from planning.views import budgets
from planning.views import cycles as planning

urlpatterns = [
    path("planning/", planning.cycle_list, name="planning_list"),
    path("planning/open/", planning.cycle_open, name="planning_open"),
    path("planning/actions/", planning.action_list, name="planning_actions"),
    path("planning/budgets/", budgets.budget_grid, name="planning_budgets"),
    path("planning/budgets/import/", budgets.budget_import, name="planning_budget_import"),
    path("planning/<int:pk>/", planning.cycle_detail, name="planning_detail"),
    path("planning/<int:pk>/report/", planning.cycle_report, name="planning_report"),
    path("planning/<int:pk>/report.csv", planning.cycle_report_csv, name="planning_report_csv"),
    path("planning/<int:pk>/report.xlsx", planning.cycle_report_xlsx, name="planning_report_xlsx"),
    path("planning/<int:pk>/sign/<slug:part>/", planning.cycle_sign, name="planning_sign"),
    path("planning/<int:pk>/adjust/", planning.adjustment_add, name="planning_adjust"),
    path("planning/<int:pk>/items/", planning.decision_add, name="planning_decision_add"),
    path("planning/<int:pk>/scenarios/", planning.scenario_run, name="planning_scenario_run"),
    path(
        "planning/<int:pk>/scenarios/<int:scenario_pk>/",
        planning.scenario_detail,
        name="planning_scenario",
    ),
    path(
        "planning/items/<int:item_pk>/edit/",
        planning.decision_edit,
        name="planning_decision_edit",
    ),
    path(
        "planning/items/<int:item_pk>/status/",
        planning.decision_status,
        name="planning_decision_status",
    ),
    path("planning/<int:pk>/meeting/", planning.cycle_meeting, name="planning_meeting"),
    path("planning/<int:pk>/<slug:action>/", planning.cycle_action, name="planning_action"),
]
