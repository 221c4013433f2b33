from django.apps import AppConfig


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = "Production"

    def ready(self):
        from production import home_panels

        home_panels.register_panels()
        from coordination import timeline
        from production import tasks  # noqa: F401 - registers the pipeline's tasks by name
        from production.models import Line

        timeline.register(Line, timeline.permission_finder(Line, "production.view_line"))
