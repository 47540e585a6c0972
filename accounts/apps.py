from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import schema  # noqa: F401 - registers the bearer scheme with drf-spectacular
        from trellis import openapi  # noqa: F401 - and the project-wide field extensions
