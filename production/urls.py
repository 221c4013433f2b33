from django.urls import path

from production.views import dashboard, economics, lines
from production.views import inventory as inventory_views

urlpatterns = [
    path("production/", dashboard.dashboard, name="production_dashboard"),
    path("production/quotas.xlsx", dashboard.quota_grid_xlsx, name="quota_grid_xlsx"),
    path("production/accept-range/", dashboard.accept_range, name="quota_accept_range"),
    path("production/recompute/", dashboard.recompute_now, name="recompute_now"),
    path("production/quota/<str:sku>/<str:week>/", dashboard.explain, name="quota_explain"),
    path("production/quota/<str:sku>/<str:week>/accept/", dashboard.accept, name="quota_accept"),
    path(
        "production/quota/<str:sku>/<str:week>/override/",
        dashboard.override,
        name="quota_override",
    ),
    path(
        "production/promotions/<int:pk>/impact/",
        dashboard.promotion_impact,
        name="promotion_impact",
    ),
    path(
        "production/promotions/<int:pk>/economics/",
        economics.promotion_economics,
        name="promotion_economics",
    ),
    path("production/lines/", lines.line_list, name="line_list"),
    path("production/lines/<int:pk>/", lines.line_detail, name="line_detail"),
    path(
        "production/lines/<int:pk>/exceptions/<int:exception_id>/delete/",
        lines.exception_delete,
        name="capacity_exception_delete",
    ),
    path("production/runs/", lines.run_list, name="run_list"),
    # --- inventory import (kept in this block) ---
    path("inventory/", inventory_views.inventory, name="inventory"),
    path("inventory/import/", inventory_views.inventory_import, name="inventory_import"),
    # --- end inventory import ---
]
