from django.urls import path

from recalls import views

urlpatterns = [
    path("recalls/", views.board, name="recall_board"),
    path("recalls/new/", views.recall_open, name="recall_open"),
    path("recalls/<str:code>/", views.detail, name="recall_detail"),
    path("recalls/<str:code>/<slug:tab>/", views.detail, name="recall_tab"),
    path("recalls/<str:code>/do/<slug:action>/", views.action, name="recall_action"),
    # Actions on one task, inquiry or statement of the incident.
    path(
        "recalls/<str:code>/do/<slug:action>/<int:item>/",
        views.action,
        name="recall_item_action",
    ),
    # The public notice: no sign-in, read-only, a stable address per recall.
    path("recall-notices/<str:code>/", views.public_notice, name="recall_public_notice"),
]
