from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import (
            schema,  # noqa: F401 - registers the bearer scheme with drf-spectacular
            throttle,  # noqa: F401 - counts failed sign-ins per IP (a signal receiver)
        )
        from accounts.websocket import install_log_filter
        from trellis import openapi  # noqa: F401 - the project-wide field extensions

        install_log_filter()  # no API token in the ASGI server's log lines
