"""Trellis settings. Every value comes from the environment (see the README's configuration table)."""

import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE

from trellis.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TRELLIS_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A stable per-install key so sessions survive restarts without any setup.
        key_file = VAR_DIR / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
        SECRET_KEY = key_file.read_text().strip()
    else:
        SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The public base URL, used in links (invitations, webhook URLs, status URLs).
PUBLIC_URL = env_str("TRELLIS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, no CDN
    "channels",
    "axes",  # sign-in lockout on every login path (accounts/throttle.py)
    "csp",  # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below)
    "accounts",
    "builder",
    "runs",
    "runs.triggers",
    "budgets",
    "chat",
    "evals",
    "knowledge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "trellis.middleware.ErrorShapeMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns axes' lockout of a sign-in (any login path) into accounts.views.lockout_response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "trellis.urls"
ASGI_APPLICATION = "trellis.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: SQLite file by default, PostgreSQL through DATABASE_URL -------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'trellis.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + busy timeout: the in-process executor's threads and web requests share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    if not env_str("DB_CONN_MAX_AGE", ""):
        # A file on this machine: keep each thread's connection for good. Reopening it per request (and running
        # the pragmas again) cost a webhook a tenth of its time under load.
        DATABASES["default"]["CONN_MAX_AGE"] = None
# SQLite: the hot writes (new runs, leases, step commits) of all threads share one transaction made by one writer
# thread, instead of each thread sleeping in SQLite's busy handler for the file's one write lock
# (runs/persistence/writer.py). Off: each thread commits its own.
SQLITE_GROUP_COMMIT = env_bool("TRELLIS_SQLITE_GROUP_COMMIT", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, channel layer, executor -----------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "trellis.channel_layer.RedisLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1500, "expiry": 30},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# `inline` runs workflows in a thread pool inside the web process; `celery` hands them to workers.
TRELLIS_EXECUTOR = env_choice("TRELLIS_EXECUTOR", "celery" if REDIS_URL else "inline", {"inline", "celery"})
INLINE_EXECUTOR_THREADS = env_int("TRELLIS_INLINE_THREADS", 8, minimum=1)
# Runs waiting on the network park instead of holding one of those threads (runs/engine/session.py). Off: the
# previous path, a thread per run for its whole advance (kept to compare them in bench_llm_concurrency).
INLINE_PARKING = env_bool("TRELLIS_INLINE_PARKING", True)

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
# Celery looks the (disabled) result backend up once per thread otherwise, and each lookup scans every installed
# package's entry points: ~10 ms for each of a threads-pool worker's dozens of message slots.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process takes many messages at once on threads (a message's runs park while they wait on the network,
# so a slot costs a blocked thread, no CPU): one process carries thousands of runs in flight; scale out with more
# processes. `prefork` isolates each message in a child process instead, one message per child at a time.
CELERY_WORKER_POOL = env_str("TRELLIS_WORKER_POOL", "threads")
CELERY_WORKER_CONCURRENCY = env_int("TRELLIS_WORKER_SLOTS", 64, minimum=1)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_WORKER_SEND_TASK_EVENTS = False

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
SIGNUP_MODE = env_choice("TRELLIS_SIGNUP", "open", {"open", "invite"})
INVITATION_TTL_HOURS = env_int("TRELLIS_INVITATION_TTL_HOURS", 72, minimum=1)
# Failed sign-ins per client IP + email before that pair is locked out for LOGIN_LOCKOUT_S seconds (5x that
# per IP across all emails). django-axes enforces it on every path that checks a password (accounts/throttle.py).
LOGIN_MAX_FAILURES = env_int("TRELLIS_LOGIN_MAX_FAILURES", 10, minimum=1)
LOGIN_LOCKOUT_S = env_int("TRELLIS_LOGIN_LOCKOUT_S", 15 * 60, minimum=1)
# An open WebSocket re-checks its caller's access this often (and at once on a revocation notice).
WS_RECHECK_S = env_float("TRELLIS_WS_RECHECK_S", 5.0)
PASSWORD_RESET_PER_EMAIL = env_int("TRELLIS_PASSWORD_RESET_PER_EMAIL", 5, minimum=1)  # requests per hour
PASSWORD_RESET_PER_IP = env_int("TRELLIS_PASSWORD_RESET_PER_IP", 20, minimum=1)  # requests per hour
THROTTLE_CACHE = "default"  # where sign-in and reset counters live (Redis in queue mode: shared by all processes)
AUTHENTICATION_BACKENDS = [
    "accounts.throttle.IpThrottleBackend",
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"  # counters in the cache, no row per attempt
AXES_CACHE = THROTTLE_CACHE
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_FAILURE_LIMIT = "accounts.throttle.failure_limit"
AXES_COOLOFF_TIME = "accounts.throttle.cool_off"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_USERNAME_CALLABLE = "accounts.throttle.username_of"
AXES_USERNAME_FORM_FIELD = "username"  # the keyword authenticate() gets the email as (not USERNAME_FIELD)
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Key for encrypting workspace secrets (Fernet, urlsafe base64 of 32 bytes). Derived from
# SECRET_KEY when unset so a demo install works; set it explicitly in production.
TRELLIS_ENCRYPTION_KEY = env_str("TRELLIS_ENCRYPTION_KEY", "")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Trellis <trellis@localhost>")

# --- Security when DEBUG is off ------------------------------------------------------------
SECURE_SSL = env_bool("TRELLIS_HTTPS", False)  # set when served behind HTTPS
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_SSL)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRELLIS_BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our own origin (no inline script, no eval); inline
# <style> elements only with the response's nonce (the account pages, the API docs); style="" attributes
# are allowed (they cannot run code, and img-src keeps url() from reaching out). The SPA, its WebSocket and
# the Swagger UI (drf-spectacular-sidecar) are all served from this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "style-src-elem": ["'self'", NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# HSTS preload is a commitment to browser vendors, so it stays opt-in (SECURE_HSTS_PRELOAD) and its
# reminder (security.W021) is silenced by default.
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", ["security.W021"])

# --- Static files and the built front end --------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []
# Uploaded knowledge-base files go through the "knowledge" storage: local files under var/ by default, any
# Django storage class otherwise. `s3` is django-storages' S3 backend for any S3-compatible store, configured by
# TRELLIS_KNOWLEDGE_S3_* (credentials: boto3's usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or instance role).


def knowledge_storage_setting() -> dict:
    """STORAGES["knowledge"] from the environment (a function: the S3 test builds it with its own)."""
    backend = env_str("TRELLIS_KNOWLEDGE_STORAGE", "django.core.files.storage.FileSystemStorage")
    if backend == "s3":
        backend = "storages.backends.s3.S3Storage"
    if backend.endswith("FileSystemStorage"):
        return {"BACKEND": backend, "OPTIONS": {"location": str(VAR_DIR / "knowledge")}}
    if backend == "storages.backends.s3.S3Storage":
        options = {
            "bucket_name": env_str("TRELLIS_KNOWLEDGE_S3_BUCKET", "trellis-knowledge"),
            "endpoint_url": env_str("TRELLIS_KNOWLEDGE_S3_ENDPOINT_URL", "") or None,  # MinIO, R2, Ceph, ...
            "region_name": env_str("TRELLIS_KNOWLEDGE_S3_REGION", "") or None,
            "location": env_str("TRELLIS_KNOWLEDGE_S3_PREFIX", "knowledge"),
            "default_acl": None,  # private objects: the API serves the files, never a public URL
        }
        return {"BACKEND": backend, "OPTIONS": options}
    return {"BACKEND": backend, "OPTIONS": {}}


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "knowledge": knowledge_storage_setting(),
}
WHITENOISE_USE_FINDERS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["trellis.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "trellis.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Trellis API",
    "DESCRIPTION": "Build, version and run deterministic agent workflows.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "accounts.models.Role", "ApiStyleEnum": "accounts.models.ApiStyle"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation lists the error answers it can give, in the one error shape (trellis/openapi.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "trellis.openapi.add_error_responses"],
    # A PATCH body is documented as its view validates it: our PATCH serializers mark optional fields themselves,
    # and some PATCH routes (a member's role, a workspace's name) do need their one field.
    "COMPONENT_SPLIT_PATCH": False,
    # Request bodies get components of their own, so a non-blank CharField says minLength 1 where it is taken
    # (and only there: an answer may well hold "").
    "COMPONENT_SPLIT_REQUEST": True,
}
# A failed CSRF check on an API path answers the JSON error shape, not Django's HTML page.
CSRF_FAILURE_VIEW = "trellis.errors.csrf_failure"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("TRELLIS_MAX_REQUEST_BYTES", 12 * 1024 * 1024, minimum=1024)

# --- Workflow limits (builder and engine) ---------------------------------------------------
GRAPH_MAX_NODES = env_int("TRELLIS_GRAPH_MAX_NODES", 2000, minimum=1)
GRAPH_MAX_BYTES = env_int("TRELLIS_GRAPH_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
GRAPH_MAX_DEPTH = env_int("TRELLIS_GRAPH_MAX_DEPTH", 32, minimum=8)
# Every CEL evaluation: a budget of comprehension iterations plus bytes allocated, and a deadline.
EXPRESSION_MAX_COST = env_int("TRELLIS_EXPRESSION_MAX_COST", 10_000_000, minimum=1000)
EXPRESSION_TIMEOUT_MS = env_int("TRELLIS_EXPRESSION_TIMEOUT_MS", 100, minimum=1)
# POST …/validate: the largest body (a graph sent to check; the saved draft needs none) and the longest it runs.
VALIDATE_MAX_BYTES = env_int("TRELLIS_VALIDATE_MAX_BYTES", 1024 * 1024, minimum=1024)
VALIDATE_TIMEOUT_S = env_float("TRELLIS_VALIDATE_TIMEOUT_S", 5.0)
RUN_MAX_STEPS = env_int("TRELLIS_RUN_MAX_STEPS", 1000, minimum=1)
RUN_MAX_DURATION_S = env_int("TRELLIS_RUN_MAX_DURATION_S", 3600, minimum=1)
RUN_MAX_LOOP_ITERATIONS = env_int("TRELLIS_RUN_MAX_LOOP_ITERATIONS", 100, minimum=1)
STEP_MAX_PAYLOAD_BYTES = env_int("TRELLIS_STEP_MAX_PAYLOAD_BYTES", 1024 * 1024, minimum=1024)
RUN_LEASE_S = env_int("TRELLIS_RUN_LEASE_S", 30, minimum=1)
# Finished built-in (pure CEL) steps are grouped into one transaction for up to this long; 0 = one per step.
RUN_COMMIT_BATCH_MS = env_int("TRELLIS_RUN_COMMIT_BATCH_MS", 20, minimum=0)
# false: per-step commits on PostgreSQL skip the WAL flush wait (terminal states are always durable).
RUN_SYNCHRONOUS_COMMIT = env_bool("TRELLIS_RUN_SYNCHRONOUS_COMMIT", False)
RUN_NODE_THREADS = env_int("TRELLIS_RUN_NODE_THREADS", 8, minimum=1)  # concurrent I/O nodes per run
# Queue mode: run ids that pile up while the broker is being written to travel in one message (at most this many),
# and a worker process advances the runs of one message side by side on this many threads.
RUN_DISPATCH_MAX_BATCH = env_int("TRELLIS_RUN_DISPATCH_MAX_BATCH", 32, minimum=1)
RUN_DISPATCH_LINGER_MS = env_int("TRELLIS_RUN_DISPATCH_LINGER_MS", 2, minimum=0)  # only while runs stream in
# Runs one process advances at once, in all and per workspace; more wait their turn, queued (runs/engine/admission.py).
RUN_MAX_ACTIVE = env_int("TRELLIS_RUN_MAX_ACTIVE", 2000, minimum=1)
RUN_MAX_ACTIVE_PER_WORKSPACE = env_int("TRELLIS_RUN_MAX_ACTIVE_PER_WORKSPACE", 1000, minimum=1)
# Model calls one workspace has in flight at once in one process (runs/llm/metering.py); more wait for a slot.
MODEL_CALLS_MAX_PER_WORKSPACE = env_int("TRELLIS_MODEL_CALLS_MAX_PER_WORKSPACE", 1000, minimum=1)
WORKER_RUN_THREADS = env_int("TRELLIS_WORKER_RUN_THREADS", 8, minimum=1)
RUN_REAPER_INTERVAL_S = env_float("TRELLIS_RUN_REAPER_INTERVAL_S", 15.0)  # 0 disables the reaper thread
# A queued run whose message has gone this long without a worker taking the run is sent again (then after
# twice as long, and so on): a message lost before a worker got it. A run a worker took and lost is sent at once.
RUN_QUEUED_GRACE_S = env_int("TRELLIS_RUN_QUEUED_GRACE_S", 60, minimum=1)
# A run whose lease expired this many times in a row, with no step committed in between, fails (crashed_repeatedly).
RUN_MAX_RECOVERIES = env_int("TRELLIS_RUN_MAX_RECOVERIES", 3, minimum=1)
# Beat's reap goes ahead of the run backlog (priority 0, see runs.dispatch) and is dropped, not piled up, when no
# worker got to it within one interval.
_REAP_EVERY_S = max(RUN_REAPER_INTERVAL_S, 1.0)
CELERY_BEAT_SCHEDULE = {
    "runs.reap": {"task": "runs.reap", "schedule": _REAP_EVERY_S, "options": {"expires": _REAP_EVERY_S, "priority": 0}}
}

# --- Outbound HTTP from nodes ----------------------------------------------------------------
# Hosts or CIDRs that nodes may reach even though they are private (e.g. "10.0.0.0/8,api.internal").
HTTP_ALLOWLIST = env_list("TRELLIS_HTTP_ALLOWLIST", [])
HTTP_MAX_RESPONSE_BYTES = env_int("TRELLIS_HTTP_MAX_RESPONSE_BYTES", 5 * 1024 * 1024, minimum=1024)
# Calls to remote MCP servers (mcp nodes, agents' MCP tools, "Fetch tools"): the whole exchange's time limit,
# and the most bytes a server may send back for one exchange.
MCP_TIMEOUT_S = env_float("TRELLIS_MCP_TIMEOUT_S", 30.0)
MCP_MAX_RESPONSE_BYTES = env_int("TRELLIS_MCP_MAX_RESPONSE_BYTES", 1024 * 1024, minimum=1024)

# --- Models -----------------------------------------------------------------------------------
OPENAI_API_KEY = env_str("OPENAI_API_KEY", "")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "")
LLM_REQUEST_TIMEOUT_S = env_float("TRELLIS_LLM_TIMEOUT_S", 120.0)
# JSON merged over the built-in price table (runs/llm/prices.py), USD per 1M tokens:
# '{"my-model": {"input": 0.5, "output": 1.5}}'. Parsed (and checked) by runs.llm.prices.
MODEL_PRICES_JSON = env_str("TRELLIS_MODEL_PRICES", "")
# Budgets (budgets/): output tokens a model call is assumed to produce when its node sets no
# max_output_tokens (the reservation's estimate), and the retry delays of a budget alert webhook.
BUDGET_OUTPUT_TOKENS_ESTIMATE = env_int("TRELLIS_BUDGET_OUTPUT_TOKENS_ESTIMATE", 4096, minimum=1)
# How long a process keeps a workspace's list of budgets (a new or removed budget reaches other processes
# within this time; a changed limit applies at once).
BUDGET_CACHE_S = env_float("TRELLIS_BUDGET_CACHE_S", 2.0)
PROVIDER_CACHE_S = env_float("TRELLIS_PROVIDER_CACHE_S", 2.0)  # runs/llm/providers.py
BUDGET_ALERT_BACKOFF_S = [float(s) for s in env_list("TRELLIS_BUDGET_ALERT_BACKOFF_S", ["5", "30"])]
# Demo without a key: when OPENAI_API_KEY is empty, the default provider is a deterministic local test
# model (runs/testing/model_server/) started inside the process. Never a real LLM; off by default.
LOCAL_TEST_MODEL = env_bool("TRELLIS_LOCAL_TEST_MODEL", False)
LOCAL_TEST_MODEL_WORD_DELAY_S = env_float("TRELLIS_LOCAL_TEST_MODEL_WORD_DELAY_S", 0.03)  # its streaming pace

# --- Knowledge bases (knowledge/) ------------------------------------------------------------
KNOWLEDGE_MAX_FILE_BYTES = env_int("TRELLIS_KNOWLEDGE_MAX_FILE_BYTES", 50 * 1024 * 1024, minimum=1024)
# A DOCX is a zip: refused when its entries declare more than this unpacked (a zip bomb), before parsing.
KNOWLEDGE_MAX_UNPACKED_BYTES = env_int("TRELLIS_KNOWLEDGE_MAX_UNPACKED_BYTES", 200 * 1024 * 1024, minimum=1024)
KNOWLEDGE_CHUNK_TOKENS = env_int("TRELLIS_KNOWLEDGE_CHUNK_TOKENS", 512, minimum=16)
KNOWLEDGE_CHUNK_OVERLAP = env_int("TRELLIS_KNOWLEDGE_CHUNK_OVERLAP", 64, minimum=0)
KNOWLEDGE_EMBED_BATCH = env_int("TRELLIS_KNOWLEDGE_EMBED_BATCH", 256, minimum=1)
KNOWLEDGE_INGEST_BATCH_FILES = env_int("TRELLIS_KNOWLEDGE_INGEST_BATCH_FILES", 64, minimum=1)
KNOWLEDGE_INGEST_LEASE_S = env_int("TRELLIS_KNOWLEDGE_INGEST_LEASE_S", 600, minimum=10)
KNOWLEDGE_EMBEDDING_MODEL = env_str("TRELLIS_KNOWLEDGE_EMBEDDING_MODEL", "text-embedding-3-small")
KNOWLEDGE_EMBEDDING_DIMENSIONS = env_int("TRELLIS_KNOWLEDGE_EMBEDDING_DIMENSIONS", 256, minimum=8)

# --- Webhooks ---------------------------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env_int("TRELLIS_WEBHOOK_MAX_BYTES", 1024 * 1024, minimum=1024)
WEBHOOK_TOLERANCE_S = env_int("TRELLIS_WEBHOOK_TOLERANCE_S", 300, minimum=1)
WEBHOOK_RATE_LIMIT_PER_MIN = env_int("TRELLIS_WEBHOOK_RATE_LIMIT", 600, minimum=0)  # per trigger; 0 = unlimited
WEBHOOK_MAX_WAIT_S = env_int("TRELLIS_WEBHOOK_MAX_WAIT_S", 300, minimum=1)  # cap for ?wait= and sync triggers
# Webhooks that arrive together are stored with one statement (runs/triggers/ingest.py): at most this many
# per group (0 turns grouping off), and this many groups being written at once per web process.
WEBHOOK_GROUP_MAX = env_int("TRELLIS_WEBHOOK_GROUP_MAX", 64, minimum=0)
WEBHOOK_GROUPS_IN_FLIGHT = env_int("TRELLIS_WEBHOOK_GROUPS_IN_FLIGHT", 1, minimum=1)
WEBHOOK_THREADS = env_int("TRELLIS_WEBHOOK_THREADS", 8, minimum=1)  # per web process: DB work of the async endpoints
WEBHOOK_SECRET_GRACE_S = env_int("TRELLIS_WEBHOOK_SECRET_GRACE_S", 86400, minimum=0)  # old secret after rotation
DELIVERY_RETENTION_DAYS = env_int("TRELLIS_DELIVERY_RETENTION_DAYS", 30, minimum=1)
# Schedules: fires missed while nothing was running are skipped, or fired once on start-up (catch_up).
SCHEDULE_MISSED = env_choice("TRELLIS_SCHEDULE_MISSED", "skip", {"skip", "catch_up"})
SCHEDULE_TICK_S = env_float("TRELLIS_SCHEDULE_TICK_S", 5.0)
# auto: an in-process scheduler thread in the web server when the executor is inline; beat does it in queue mode.
SCHEDULER = env_choice("TRELLIS_SCHEDULER", "auto", {"auto", "off"})
# Retry delays stay within CELERY_VISIBILITY_TIMEOUT: a longer countdown on the Redis broker is redelivered early.
CALLBACK_BACKOFF_S = [float(s) for s in env_list("TRELLIS_CALLBACK_BACKOFF_S", ["10", "60", "300", "1800", "3600"])]
CALLBACK_TIMEOUT_S = env_float("TRELLIS_CALLBACK_TIMEOUT_S", 10.0)
OPENAI_COMPAT_TIMEOUT_S = env_int("TRELLIS_OPENAI_TIMEOUT_S", 300, minimum=1)
# POST /mcp: how long a tool call waits for its run before answering with the run's URL instead.
MCP_SERVE_TIMEOUT_S = env_int("TRELLIS_MCP_SERVE_TIMEOUT_S", 300, minimum=1)
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "trigger-schedules": {"task": "triggers.schedule_tick", "schedule": SCHEDULE_TICK_S},
    "trigger-delivery-purge": {"task": "triggers.delivery_purge", "schedule": 3600.0},
    "knowledge-resume": {"task": "knowledge.resume", "schedule": 60.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Chat deployments (chat/) ---
CHAT_VISITOR_TTL_S = env_int("TRELLIS_CHAT_VISITOR_TTL_S", 30 * 86400, minimum=60)  # how long a visitor cookie lives
CHAT_ANSWER_TIMEOUT_S = env_int("TRELLIS_CHAT_ANSWER_TIMEOUT_S", 300, minimum=1)  # longest a live answer is relayed
# Evals (DESIGN §10): runs of one eval in flight at once, how long publish waits for the gate's eval,
# the largest dataset import, the most items in a dataset.
EVAL_CONCURRENCY = env_int("TRELLIS_EVAL_CONCURRENCY", 4, minimum=1)
EVAL_GATE_WAIT_S = env_float("TRELLIS_EVAL_GATE_WAIT_S", 120.0)
EVAL_IMPORT_MAX_BYTES = env_int("TRELLIS_EVAL_IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
EVAL_DATASET_MAX_ITEMS = env_int("TRELLIS_EVAL_DATASET_MAX_ITEMS", 10_000, minimum=1)
# Fine-tuning exports and jobs: the fewest examples an export may have (OpenAI's minimum is 10), the most
# it takes, the timeout of one call to the provider.
FINETUNE_MIN_EXAMPLES = env_int("TRELLIS_FINETUNE_MIN_EXAMPLES", 10, minimum=1)
FINETUNE_EXPORT_MAX_EXAMPLES = env_int("TRELLIS_FINETUNE_EXPORT_MAX_EXAMPLES", 5000, minimum=1)
FINETUNE_REQUEST_TIMEOUT_S = env_float("TRELLIS_FINETUNE_REQUEST_TIMEOUT_S", 60.0)
CELERY_BEAT_SCHEDULE["evals-tick"] = {"task": "evals.tick", "schedule": SCHEDULE_TICK_S}
