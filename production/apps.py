from django.apps import AppConfig


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = "Production"

    def ready(self):
        from production import demo, home_panels

        home_panels.register_panels()
        demo.register_demo_parts()
        from production import tasks  # noqa: F401 - registers the pipeline's tasks by name
