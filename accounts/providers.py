"""Model providers: writes, the credentials an agent node uses, and the "test connection" call.

A provider's API key is a workspace Secret (named `provider:<id>` when given through the API), so it is
encrypted at rest and never returned; the provider row only names it."""

from dataclasses import dataclass

import openai
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from accounts.models import ApiStyle, ModelProvider, Secret, User, Workspace
from accounts.services import PROVIDER_SECRET_PREFIX, secret_set, secret_value
from trellis.errors import ApplicationError
from trellis.net import BlockedURLError, guarded_client

TEST_TIMEOUT_S = 5.0
_UNSET = object()


@dataclass(frozen=True)
class ProviderCredentials:
    base_url: str | None  # None = OpenAI's own endpoint
    api_key: str  # "" when the provider needs none (a local server)
    api_style: str


def _provider_secret_name(provider: ModelProvider) -> str:
    return f"{PROVIDER_SECRET_PREFIX}{provider.pk}"


def _clean(*, name=_UNSET, base_url=_UNSET, api_style=_UNSET, models=_UNSET) -> dict:
    fields: dict = {}
    if name is not _UNSET:
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise ApplicationError(
                "validation_error", "A provider needs a name (at most 100 characters).", [{"field": "name"}]
            )
        fields["name"] = name
    if base_url is not _UNSET:
        base_url = (base_url or "").strip().rstrip("/")
        if base_url:
            try:
                URLValidator(schemes=["http", "https"])(base_url)
            except ValidationError:
                raise ApplicationError(
                    "validation_error", "The base URL must be an http(s) URL.", [{"field": "base_url"}]
                )
        fields["base_url"] = base_url
    if api_style is not _UNSET:
        if api_style not in ApiStyle.values:
            raise ApplicationError(
                "validation_error", f"api_style must be one of {ApiStyle.values}.", [{"field": "api_style"}]
            )
        fields["api_style"] = api_style
    if models is not _UNSET:
        if not isinstance(models, list) or not all(isinstance(m, str) and m.strip() for m in models):
            raise ApplicationError("validation_error", "models must be a list of model names.", [{"field": "models"}])
        fields["models"] = list(dict.fromkeys(m.strip() for m in models))
    return fields


def _check_secret_exists(workspace_id, name: str) -> None:
    if name and not Secret.objects.filter(workspace_id=workspace_id, name=name).exists():
        raise ApplicationError(
            "validation_error", f"No secret named {name!r} in this workspace.", [{"field": "api_key_secret"}]
        )


def _make_default(provider: ModelProvider) -> None:
    ModelProvider.objects.filter(workspace_id=provider.workspace_id, is_default=True).exclude(pk=provider.pk).update(
        is_default=False
    )


@transaction.atomic
def provider_create(
    *,
    workspace: Workspace,
    name: str,
    base_url: str = "",
    api_style: str = ApiStyle.RESPONSES,
    models: list[str] | None = None,
    api_key: str | None = None,
    api_key_secret: str = "",
    is_default: bool = False,
    by: User | None = None,
) -> ModelProvider:
    fields = _clean(name=name, base_url=base_url, api_style=api_style, models=models or [])
    if ModelProvider.objects.filter(workspace=workspace, name=fields["name"]).exists():
        raise ApplicationError("provider_exists", f"A provider named {fields['name']!r} already exists.", status=409)
    if not ModelProvider.objects.filter(workspace=workspace).exists():
        is_default = True  # the first provider is the one agent nodes use unless told otherwise
    if api_key is None:
        _check_secret_exists(workspace.pk, api_key_secret or "")
    provider = ModelProvider(workspace=workspace, api_key_secret=api_key_secret or "", is_default=False, **fields)
    provider.save()
    if api_key:
        provider.api_key_secret = _provider_secret_name(provider)
        secret_set(workspace=workspace, name=provider.api_key_secret, value=api_key, by=by)
    if is_default:
        _make_default(provider)
        provider.is_default = True
    provider.save(update_fields=["api_key_secret", "is_default"])
    return provider


@transaction.atomic
def provider_update(*, provider: ModelProvider, by: User | None = None, **changes) -> ModelProvider:
    """`changes` may hold name, base_url, api_style, models, api_key (set; "" removes), api_key_secret, is_default."""
    allowed = {"name", "base_url", "api_style", "models", "api_key", "api_key_secret", "is_default"}
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError("validation_error", f"Unknown fields: {sorted(unknown)}.")
    fields = _clean(**{k: v for k, v in changes.items() if k in {"name", "base_url", "api_style", "models"}})
    if "name" in fields and fields["name"] != provider.name:
        if ModelProvider.objects.filter(workspace_id=provider.workspace_id, name=fields["name"]).exists():
            raise ApplicationError(
                "provider_exists", f"A provider named {fields['name']!r} already exists.", status=409
            )
    for key, value in fields.items():
        setattr(provider, key, value)
    own_secret = _provider_secret_name(provider)
    if "api_key_secret" in changes:
        _check_secret_exists(provider.workspace_id, changes["api_key_secret"] or "")
        provider.api_key_secret = changes["api_key_secret"] or ""
    if "api_key" in changes:
        if changes["api_key"]:
            secret_set(workspace=provider.workspace, name=own_secret, value=changes["api_key"], by=by)
            provider.api_key_secret = own_secret
        else:
            Secret.objects.filter(workspace_id=provider.workspace_id, name=own_secret).delete()
            if provider.api_key_secret == own_secret:
                provider.api_key_secret = ""
    if changes.get("is_default") is True:
        _make_default(provider)
        provider.is_default = True
    elif changes.get("is_default") is False:
        provider.is_default = False
    try:
        provider.save()
    except IntegrityError:
        raise ApplicationError("conflict", "The provider could not be saved; try again.", status=409)
    return provider


@transaction.atomic
def provider_delete(*, provider: ModelProvider) -> None:
    Secret.objects.filter(workspace_id=provider.workspace_id, name=_provider_secret_name(provider)).delete()
    provider.delete()


HOW_TO_ADD_KEY = (
    "An admin can add one in Settings → Model providers (the key is kept as a workspace secret), "
    "or the operator can set OPENAI_API_KEY for the default provider."
)


def provider_credentials(*, provider: ModelProvider, read_secret=None) -> ProviderCredentials:
    """What the `openai` SDK needs to call this workspace provider: the one place its key is checked and read,
    for the engine's model calls (runs/llm/providers.py), the connection test and fine-tune jobs. A workspace
    provider needs a key of its own. `read_secret(name)` reads a workspace secret (the engine passes its own,
    which also redacts the value from traces). Raises ApplicationError `provider_missing_key`."""
    if not provider.api_key_secret:
        raise ApplicationError(
            "provider_missing_key", f"Model provider {provider.name!r} has no API key. {HOW_TO_ADD_KEY}"
        )
    if read_secret is None:

        def read_secret(name: str) -> str:
            return secret_value(workspace_id=provider.workspace_id, name=name)

    try:
        api_key = read_secret(provider.api_key_secret)
    except Exception as exc:  # the secret was deleted or cannot be decrypted
        raise ApplicationError(
            "provider_missing_key",
            f"Model provider {provider.name!r} uses the secret {provider.api_key_secret!r}, which could not be read "
            f"({getattr(exc, 'message', exc)}). {HOW_TO_ADD_KEY}",
        ) from None
    if not api_key:
        raise ApplicationError(
            "provider_missing_key",
            f"Model provider {provider.name!r}: its secret {provider.api_key_secret!r} is empty. {HOW_TO_ADD_KEY}",
        )
    api_style = provider.api_style if provider.api_style in ApiStyle.values else ApiStyle.values[0]
    return ProviderCredentials(base_url=provider.base_url or None, api_key=api_key, api_style=api_style)


def provider_test(*, provider: ModelProvider) -> dict:
    """Lists the provider's models with a short timeout: {"ok", "message", "models"}; never raises.

    The call goes through the same SSRF-guarded HTTP client as the engine's model calls, so a passing test
    means agent nodes can reach the provider too."""

    try:
        creds = provider_credentials(provider=provider)
    except ApplicationError as exc:
        return {"ok": False, "message": exc.message, "models": []}
    try:
        with guarded_client(timeout_s=TEST_TIMEOUT_S) as http_client:
            client = openai.OpenAI(
                api_key=creds.api_key,
                base_url=creds.base_url,
                http_client=http_client,
                timeout=TEST_TIMEOUT_S,
                max_retries=0,
            )
            names = sorted(m.id for m in client.models.list())
    except openai.AuthenticationError:
        return {"ok": False, "message": "The provider refused the API key (401).", "models": []}
    except openai.APIStatusError as exc:
        return {"ok": False, "message": f"The provider answered HTTP {exc.status_code}.", "models": []}
    except openai.APITimeoutError:
        return {"ok": False, "message": f"No answer within {TEST_TIMEOUT_S:g} seconds.", "models": []}
    except openai.APIConnectionError as exc:
        blocked = _cause(exc, BlockedURLError)
        if blocked is not None:
            return {"ok": False, "message": str(blocked), "models": []}
        return {"ok": False, "message": f"Cannot connect to {creds.base_url or 'OpenAI'}.", "models": []}
    except Exception as exc:  # a malformed answer must still produce a readable result
        return {"ok": False, "message": f"Unexpected answer: {type(exc).__name__}: {exc}", "models": []}
    return {"ok": True, "message": f"Connected: {len(names)} models available.", "models": names}


def _cause(exc: BaseException, kind: type) -> BaseException | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
