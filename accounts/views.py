"""Server-rendered account pages: sign in (throttled), sign out, sign up, accept an invitation.
Password reset uses Django's own views with our templates (see page_urls.py)."""

from django.conf import settings
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from accounts import services, throttle
from accounts.forms import LoginForm, SignupForm
from accounts.models import User
from trellis.errors import ApplicationError

_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next_url(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return settings.LOGIN_REDIRECT_URL


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None, request=request)
    status = 200
    if request.method == "POST":
        email = (request.POST.get("email") or "").strip().lower()
        if throttle.login_locked(request, email):
            form = LoginForm(initial={"email": email}, request=request)
            form.lockout = (
                f"Too many failed sign-in attempts for this address. Try again in {throttle.lockout_minutes()} "
                "minutes, or reset your password."
            )
            status = 429
        elif form.is_valid():
            throttle.login_succeeded(request, email)
            login(request, form.user)
            return redirect(_next_url(request))
        else:
            throttle.login_failed(request, email)
            status = 400
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": _next_url(request), "signup_open": settings.SIGNUP_MODE == "open"},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@csrf_protect
def logout_view(request):
    if request.method == "POST":
        logout(request)
        return redirect(settings.LOGOUT_REDIRECT_URL)
    return render(request, "accounts/logout.html")


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def signup_view(request):
    if settings.SIGNUP_MODE != "open":
        return render(request, "accounts/signup_closed.html", status=403)
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, _ = services.user_signup(
            email=form.cleaned_data["email"], password=form.cleaned_data["password"], name=form.cleaned_data["name"]
        )
        login(request, user, backend=_BACKEND)
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def invite_view(request, token: str):
    """One page for every case: signed in as the invitee (join), signed in as someone else (switch),
    an existing account (sign in and join), or no account yet (create one and join — even when sign-up
    is invite-only, since this is the invitation)."""
    try:
        invitation = services.invitation_for_token(token)
    except ApplicationError as exc:
        return render(request, "accounts/invite_invalid.html", {"message": exc.message}, status=exc.status)

    ctx = {"invitation": invitation, "workspace": invitation.workspace}
    user = request.user if request.user.is_authenticated else None
    has_account = User.objects.filter(email=invitation.email).exists()

    if user is not None and user.email != invitation.email:
        return render(request, "accounts/invite.html", {**ctx, "mode": "wrong_user"}, status=403)

    if user is not None:
        if request.method == "POST":
            return _accept(request, token, user)
        return render(request, "accounts/invite.html", {**ctx, "mode": "join"})

    if has_account:
        form = LoginForm(request.POST or None, request=request, initial={"email": invitation.email})
        if request.method == "POST":
            if throttle.login_locked(request, invitation.email):
                ctx["lockout"] = f"Too many failed sign-in attempts. Try again in {throttle.lockout_minutes()} minutes."
                return render(request, "accounts/invite.html", {**ctx, "mode": "login", "form": form}, status=429)
            data = request.POST.copy()
            data["email"] = invitation.email  # the invitation decides which account signs in
            form = LoginForm(data, request=request)
            if form.is_valid():
                throttle.login_succeeded(request, invitation.email)
                login(request, form.user)
                return _accept(request, token, form.user)
            throttle.login_failed(request, invitation.email)
        return render(
            request, "accounts/invite.html", {**ctx, "mode": "login", "form": form}, status=400 if form.errors else 200
        )

    form = SignupForm(request.POST or None, fixed_email=invitation.email)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(
            email=invitation.email, password=form.cleaned_data["password"], name=form.cleaned_data["name"]
        )
        login(request, user, backend=_BACKEND)
        return _accept(request, token, user)
    return render(
        request, "accounts/invite.html", {**ctx, "mode": "signup", "form": form}, status=400 if form.errors else 200
    )


def _accept(request, token: str, user):
    try:
        membership = services.invitation_accept(raw_token=token, user=user)
    except ApplicationError as exc:
        return render(request, "accounts/invite_invalid.html", {"message": exc.message}, status=exc.status)
    # The SPA opens in the workspace the user just joined.
    return redirect(f"/?workspace={membership.workspace.slug}")
