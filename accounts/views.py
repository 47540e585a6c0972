"""Server-rendered account pages: sign in, sign out, sign up, accept an invitation, the lockout page.
Password reset uses Django's own views with our templates (see page_urls.py), throttled here.
Failed sign-ins are counted and locked out by django-axes for every login path (accounts/throttle.py)."""

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
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
        # A locked-out client gets here too (axes refuses the password check); AxesMiddleware then
        # answers with `lockout_response` instead of this page.
        if form.is_valid():
            login(request, form.user)
            return redirect(_next_url(request))
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
            data = request.POST.copy()
            data["email"] = invitation.email  # the invitation decides which account signs in
            form = LoginForm(data, request=request)
            if form.is_valid():
                login(request, form.user)
                return _accept(request, token, form.user)
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


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer once a client is locked out (AXES_LOCKOUT_CALLABLE), on every login path."""
    return render(
        request,
        "accounts/locked.html",
        {
            "message": (
                f"Too many failed sign-in attempts. Try again in {throttle.lockout_minutes()} minutes, "
                "or reset your password."
            )
        },
        status=429,
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with at most TRELLIS_PASSWORD_RESET_PER_EMAIL requests per email and
    TRELLIS_PASSWORD_RESET_PER_IP per client IP in an hour: each one sends a mail."""

    def form_valid(self, form):
        retry_after = throttle.password_reset_allowed(self.request, form.cleaned_data["email"])
        if retry_after is not None:
            minutes = max(1, round(retry_after / 60))
            form.add_error(None, f"Too many password reset requests. Try again in {minutes} minutes.")
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(retry_after)
            return response
        return super().form_valid(form)
