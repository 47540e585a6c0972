"""`manage.py bootstrap`: the demo user and workspace `make run` prints, created when absent (idempotent)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import ModelProvider, Role, User, Workspace
from accounts.providers import provider_create
from accounts.services import membership_add, user_create, workspace_create

DEMO_EMAIL = "demo@trellis.local"
DEMO_WORKSPACE_SLUG = "demo"
DEMO_PROVIDER_NAME = "Local test model (demo, not a real LLM)"


class Command(BaseCommand):
    help = "Create the demo user (demo@trellis.local) and the Demo workspace when absent, then print the login."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help="Set the demo user's password back to TRELLIS_DEMO_PASSWORD even if it was changed.",
        )

    @transaction.atomic
    def handle(self, *args, reset_password: bool = False, **options):
        password = os.environ.get("TRELLIS_DEMO_PASSWORD", "trellis-demo")
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = user_create(email=DEMO_EMAIL, password=password, name="Demo User")
            self.stdout.write(f"Created the demo user {DEMO_EMAIL}.")
        elif reset_password:
            user.set_password(password)
            user.save(update_fields=["password"])
        workspace = Workspace.objects.filter(slug=DEMO_WORKSPACE_SLUG).first()
        if workspace is None:
            workspace = workspace_create(name="Demo", slug=DEMO_WORKSPACE_SLUG, owner=user)
            self.stdout.write("Created the Demo workspace.")
        elif not workspace.memberships.filter(user=user).exists():
            membership_add(workspace=workspace, user=user, role=Role.OWNER)

        model_url = os.environ.get("TRELLIS_DEMO_MODEL_URL", "").strip()
        if model_url and not ModelProvider.objects.filter(workspace=workspace, name=DEMO_PROVIDER_NAME).exists():
            names = os.environ.get("TRELLIS_DEMO_MODEL_NAMES", "gpt-4.1-mini,gpt-4.1")
            provider_create(
                workspace=workspace,
                name=DEMO_PROVIDER_NAME,
                base_url=model_url,
                api_style=os.environ.get("TRELLIS_DEMO_MODEL_STYLE", "responses"),
                models=[n.strip() for n in names.split(",") if n.strip()],
                # The local server ignores the key, but agent nodes insist on a provider having one.
                api_key=os.environ.get("TRELLIS_DEMO_MODEL_KEY", "local-test-model"),
                is_default=not ModelProvider.objects.filter(workspace=workspace).exists(),
            )
            self.stdout.write(f"Added the provider {DEMO_PROVIDER_NAME!r} at {model_url}.")
            if not settings.HTTP_ALLOWLIST:
                self.stdout.write(
                    "  Note: model calls to private addresses are blocked; if that URL is local, add its host "
                    "to TRELLIS_HTTP_ALLOWLIST."
                )

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Trellis is ready: open {settings.PUBLIC_URL}/accounts/login/"))
        if user.check_password(password):
            self.stdout.write(f"  email:    {DEMO_EMAIL}")
            self.stdout.write(f"  password: {password}")
        else:
            self.stdout.write(
                f"  email:    {DEMO_EMAIL} (its password was changed; `manage.py bootstrap --reset-password` resets it)"
            )
