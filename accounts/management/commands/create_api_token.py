"""`manage.py create_api_token --email E --workspace SLUG --name N`: prints a new API token (shown once)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User, Workspace
from accounts.services import api_token_create
from trellis.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API token for a member of a workspace and print it (it cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--workspace", required=True, help="workspace slug")
        parser.add_argument("--name", default="cli")

    def handle(self, *args, email: str, workspace: str, name: str, **options):
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No user with email {email!r}.")
        ws = Workspace.objects.filter(slug=workspace).first()
        if ws is None:
            raise CommandError(f"No workspace with slug {workspace!r}.")
        try:
            _, raw = api_token_create(workspace=ws, user=user, name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message)
        self.stdout.write(raw)
