from django.urls import path

from demand.views import forecasts, launches, promotions
from demand.views import sales_import as sales_import_views

urlpatterns = [
    path("promotions/", promotions.promotion_calendar, name="promotion_calendar"),
    path("promotions.xlsx", promotions.promotion_list_xlsx, name="promotion_list_xlsx"),
    path("promotions/new/", promotions.promotion_create, name="promotion_create"),
    path("promotions/lift-suggestion/", promotions.lift_suggestion, name="lift_suggestion"),
    path("promotions/<int:pk>/", promotions.promotion_detail, name="promotion_detail"),
    path("promotions/<int:pk>/edit/", promotions.promotion_edit, name="promotion_edit"),
    path("promotions/<int:pk>/status/", promotions.promotion_status, name="promotion_status"),
    path("promotions/<int:pk>/progress/", promotions.promotion_progress, name="promotion_progress"),
    path("forecasts/", forecasts.forecast_list, name="forecast_list"),
    path("forecasts/accuracy/", forecasts.accuracy, name="forecast_accuracy"),
    path("forecasts/<str:sku>/", forecasts.forecast_detail, name="forecast_detail"),
    path("forecasts/<str:sku>/forecast.xlsx", forecasts.forecast_xlsx, name="forecast_xlsx"),
    path("forecasts/<str:sku>/adjust/", forecasts.adjust, name="forecast_adjust"),
    path("forecasts/<str:sku>/launch/", launches.product_launch, name="product_launch"),
    path(
        "forecasts/<str:sku>/launch/save/",
        launches.product_launch_save,
        name="product_launch_save",
    ),
    # --- sales history import (kept in this block) ---
    path("sales/import/", sales_import_views.sales_import, name="sales_import"),
    path(
        "sales/import/<int:pk>/",
        sales_import_views.sales_import_preview,
        name="sales_import_preview",
    ),
    path(
        "sales/import/<int:pk>/apply/",
        sales_import_views.sales_import_apply,
        name="sales_import_apply",
    ),
    # --- end sales history import ---
]
