"""CityOps settings: one module, driven by environment variables (see .env.example)."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=False.")
    SECRET_KEY = "cityops-insecure-demo-key-only-for-DEBUG-true-do-not-deploy"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # django.contrib.staticfiles, skipping vendored node_modules/ (see cityops/staticfiles.py)
    "cityops.staticfiles.StaticFilesConfig",
    "django.contrib.humanize",
    "rest_framework",
    "knox",  # staff API tokens: stored hashed, with an expiry (workflows.integrations.tokens)
    "axes",  # login throttling and lockout, counted in the cache
    "csp",  # Content-Security-Policy header
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",  # the case search's filters (its range widget's templates)
    "viewflow",
    "viewflow.workflow",
    "import_export",  # master data import/export in the admin (departments.admin_io)
    "departments",
    "workflows",
    "operations",
    "indicators",
    "intelligence",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication (session users); DRF's own authentication runs later, in the view.
    "workflows.integrations.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a login refused for too many failures into the lockout answer (429).
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:  # the demo's runserver serves static files itself
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "cityops.urls"
WSGI_APPLICATION = "cityops.wsgi.application"
ASGI_APPLICATION = "cityops.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workflows.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cityops.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the in-process sweeper and the web server share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's, reading timestamps with psycopg's C loader (cityops/db/postgresql).
        DATABASES["default"]["ENGINE"] = "cityops.db.postgresql"
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side binding lets psycopg prepare statements a connection runs repeatedly, which
    # saves PostgreSQL the planning of every task-list and transition query. Set
    # DB_PREPARE_THRESHOLD= (empty) behind PgBouncer < 1.21 in transaction mode.
    _prepare = env.str("DB_PREPARE_THRESHOLD", default="5")
    if _prepare:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": int(_prepare)}
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "cityops.lockout.LoginLockoutBackend",  # django-axes, for logins over HTTP
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "cityops.staticfiles.ManifestStaticFilesStorage"  # whitenoise's, see the module
    },
}

# The cache: login attempts (lockout) and request rates are counted here, so in production it
# must be shared by all processes (Redis, e.g. CACHE_URL=redis://127.0.0.1:6379/1). The demo's
# single process uses its own memory.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from this site only;
# no inline script or style anywhere (pages, admin, /api/docs/ load theirs from static files).
# Images may be data: URIs (Swagger UI's icons). Photos get a stricter policy of their own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # blob: the photo chosen on the report form, read into a canvas to shrink it
        # (static/cityops/photos.js); MAP_TILE_URL's host is added below when set.
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Login throttling and lockout (django-axes) on the login page, the admin login and the token
# endpoint: after CITYOPS_LOGIN_FAILURE_LIMIT failures for one account, or from one client
# address, further attempts are refused (429) for CITYOPS_LOGIN_LOCKOUT_MINUTES; counted in
# the cache above (shared by all processes in production); the address is read as NUM_PROXIES
# says (cityops/clientip.py).
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "default"
AXES_FAILURE_LIMIT = env.int("CITYOPS_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CITYOPS_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "cityops.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "cityops.lockout.lockout_response"
AXES_VERBOSE = False
# The demo is one process, so its memory cache counts correctly; with DEBUG=False, a cache not
# shared between processes (no CACHE_URL) is a deploy-check warning (axes.W001).
SILENCED_SYSTEM_CHECKS = ["axes.W001"] if DEBUG else []

# Staff API tokens (django-rest-knox): hashed, valid for CITYOPS_TOKEN_TTL_HOURS.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.float("CITYOPS_TOKEN_TTL_HOURS", default=10)),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cityops@localhost")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workflows.integrations.tokens.TokenAuthentication",  # DRF's, one prepared statement
        "workflows.integrations.keys.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "workflows.integrations.keys.HasScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with a nesting limit (400 beyond 64 levels), forms, multipart (photos).
    "DEFAULT_PARSER_CLASSES": [
        "workflows.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "workflows.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per API key and per anonymous address; staff users are not throttled.
    "DEFAULT_THROTTLE_CLASSES": [
        "workflows.integrations.throttling.ApiKeyRateThrottle",
        "workflows.integrations.throttling.AnonymousRateThrottle",
    ],
    # Trusted proxies in front (nginx: 1). 0 = X-Forwarded-For is ignored, the client address
    # is the connection's (DRF's default, None, would trust whatever the client sends).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "apikey": env.str("CITYOPS_RATE_APIKEY", default="600/min"),
        "anon": env.str("CITYOPS_RATE_ANON", default="60/min"),
        # Open311 GETs (public) per client address.
        "open311": env.str("CITYOPS_RATE_OPEN311", default="120/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CityOps API",
    "DESCRIPTION": (
        "Cross-department case handling. Authenticate with `Authorization: Token <token>` "
        "(staff, from POST /api/v1/auth/token/) or `Authorization: Bearer <API key>` "
        "(integrating systems, by scope). Errors share one body: "
        '`{"error": {"code", "message", "fields"?}}`. POSTs accept an `Idempotency-Key` '
        "header (at most 255 characters): the first response is replayed for 24 hours to the "
        "same credential with `Idempotent-Replayed: true`; the same key with another request "
        "is 422 `idempotency_mismatch`, while the first still runs 409."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # JSON bodies; operations that take photos name multipart themselves.
    "PARSER_WHITELIST": ["workflows.api.parsers.DepthLimitedJSONParser"],
    "PREPROCESSING_HOOKS": ["workflows.api.schema.only_api_v1"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workflows.api.schema.add_common_errors",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Periodic work (SLA sweeps, outbox delivery): Celery beat when a broker is configured,
# otherwise a loop inside the web process (the local demo).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CITYOPS_INPROCESS_PERIODIC = env.bool("CITYOPS_INPROCESS_PERIODIC", default=not CELERY_BROKER_URL)
CITYOPS_SWEEP_INTERVAL_SECONDS = env.float("CITYOPS_SWEEP_INTERVAL_SECONDS", default=30.0)
# Indicator facts read only events older than this (a later id may commit first).
CITYOPS_FACTS_SETTLE_SECONDS = env.float("CITYOPS_FACTS_SETTLE_SECONDS", default=5.0)

# Uploaded photos: size limit of one upload, largest decoded image (pixels), longest side kept
# (larger photos are shrunk). Photos are re-encoded as JPEG without metadata.
CITYOPS_PHOTO_MAX_BYTES = env.int("CITYOPS_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
CITYOPS_PHOTO_MAX_PIXELS = env.int("CITYOPS_PHOTO_MAX_PIXELS", default=40_000_000)
CITYOPS_PHOTO_MAX_SIDE = env.int("CITYOPS_PHOTO_MAX_SIDE", default=2560)
# Production behind nginx: photos are handed to nginx with X-Accel-Redirect under this internal
# location (deploy/nginx/cityops.conf: /protected-media/). Empty: Django sends the bytes.
CITYOPS_MEDIA_ACCEL_REDIRECT = env.str("CITYOPS_MEDIA_ACCEL_REDIRECT", default="")
DATA_UPLOAD_MAX_MEMORY_SIZE = CITYOPS_PHOTO_MAX_BYTES + 1024 * 1024

# Webhooks: targets must resolve to public addresses, except the host names listed here
# (exact names, e.g. an internal receiver) or when private targets are allowed altogether.
CITYOPS_WEBHOOK_ALLOWED_HOSTS = env.list("CITYOPS_WEBHOOK_ALLOWED_HOSTS", default=[])
CITYOPS_WEBHOOK_ALLOW_PRIVATE = env.bool("CITYOPS_WEBHOOK_ALLOW_PRIVATE", default=False)
CITYOPS_WEBHOOK_TIMEOUT_SECONDS = env.float("CITYOPS_WEBHOOK_TIMEOUT_SECONDS", default=10.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # The health check is called over plain HTTP on the machine itself (monitoring, nginx).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# /healthz fails when the last successful SLA sweep is older than this (default: three sweep
# intervals, at least 2 minutes).
CITYOPS_HEALTH_SWEEP_MAX_AGE_SECONDS = env.float("CITYOPS_HEALTH_SWEEP_MAX_AGE_SECONDS", default=0)

# Periodic jobs (see cityops/periodic.py): name, dotted callable, interval in seconds.
CITYOPS_PERIODIC_JOBS: list[dict] = [
    {
        "name": "outbox-deliver",
        "func": "workflows.outbox.deliver_due",
        "seconds": env.float("CITYOPS_OUTBOX_INTERVAL_SECONDS", default=5.0),
    },
    {
        "name": "sla-sweep",
        "func": "workflows.services.escalations.sla_sweep",
        "seconds": CITYOPS_SWEEP_INTERVAL_SECONDS,
    },
    {
        # Indicator facts: apply the case events past the recorded position (indicators.facts).
        "name": "indicator-facts",
        "func": "indicators.facts.facts_catch_up",
        "seconds": env.float("CITYOPS_FACTS_INTERVAL_SECONDS", default=15.0),
    },
    {
        # Breach prediction (intelligence.services.breach): score open tasks, early warnings.
        "name": "breach-score",
        "func": "intelligence.services.breach.breach_sweep_job",
        "seconds": env.float("CITYOPS_BREACH_INTERVAL_SECONDS", default=300.0),
    },
    {
        # Hotspot alerts (intelligence.services.hotspots): surges of a category in an area.
        "name": "hotspot-scan",
        "func": "intelligence.services.hotspots.hotspot_scan_job",
        "seconds": env.float("CITYOPS_HOTSPOT_INTERVAL_SECONDS", default=900.0),
    },
    {
        # Dispatch suggestions: a new model version from the closed cases (intelligence).
        "name": "suggestions-train",
        "func": "intelligence.services.train.weekly_training",
        "seconds": 7 * 24 * 3600,
    },
    {
        "name": "token-purge",
        "func": "workflows.integrations.tokens.purge_expired",
        "seconds": 3600,
    },
    {
        "name": "idempotency-purge",
        "func": "workflows.integrations.idempotency.purge_expired",
        "seconds": 3600,
    },
]

# Dispatch suggestions (intelligence): fewer closed cases than this is a cold start (keyword
# matching on category names and the routing rules); the most recent N closed cases are kept
# for "similar past cases".
CITYOPS_SUGGEST_MIN_CASES = env.int("CITYOPS_SUGGEST_MIN_CASES", default=100)
CITYOPS_SUGGEST_NEIGHBOURS = env.int("CITYOPS_SUGGEST_NEIGHBOURS", default=50000)

# Password of the demo accounts created by `manage.py seed_demo`.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="cityops-demo")

# Service levels. Limits per stage as [value, unit] (units: natural_minutes, natural_hours,
# working_hours, working_days), by urgency where the value is a dict. Filing and dispatch
# share one window ("filing_dispatch"). Handling limits come from the category.
CITYOPS_SLA_LIMITS = {
    "intake": [30, "natural_minutes"],
    "verify": [1, "natural_hours"],
    "filing_dispatch": {"normal": [30, "natural_minutes"], "urgent": [10, "natural_minutes"]},
    "return_review": [1, "working_hours"],
    "extension_review": [1, "working_hours"],
    "parking_review": [1, "working_hours"],
    "parked": [30, "working_days"],
    "check": [1, "natural_hours"],
    "closing": [1, "working_days"],
}
# Escalation levels when no ThresholdRule matches (percent of the allotted time).
CITYOPS_SLA_LEVELS = [
    {"percent": 50, "action": "remind"},
    {"percent": 75, "action": "warn"},
    {"percent": 100, "action": "overdue"},
]
CITYOPS_SLA_AT_RISK_PERCENT = 75
# Breach prediction (预测超期): the unit head is warned once when a task's probability of
# missing its due time reaches this level before CITYOPS_SLA_AT_RISK_PERCENT of its time is
# used; the board lists open tasks at or above it. The model learns from the tasks finished in
# the last CITYOPS_BREACH_LOOKBACK_DAYS and is rebuilt at most every ..._MODEL_TTL_SECONDS.
CITYOPS_BREACH_WARN_PROBABILITY = env.float("CITYOPS_BREACH_WARN_PROBABILITY", default=0.7)
CITYOPS_BREACH_LOOKBACK_DAYS = env.int("CITYOPS_BREACH_LOOKBACK_DAYS", default=120)
CITYOPS_BREACH_MODEL_TTL_SECONDS = env.float("CITYOPS_BREACH_MODEL_TTL_SECONDS", default=3600.0)
# Hotspot alerts (热点): reports of one category in one area over the last ..._WINDOW_DAYS
# against the same weekdays of the ..._BASELINE_WEEKS before; an alert when at least
# ..._MIN_REPORTS and the Poisson tail probability is below ..._P_VALUE.
CITYOPS_HOTSPOT_WINDOW_DAYS = env.int("CITYOPS_HOTSPOT_WINDOW_DAYS", default=3)
CITYOPS_HOTSPOT_BASELINE_WEEKS = env.int("CITYOPS_HOTSPOT_BASELINE_WEEKS", default=8)
CITYOPS_HOTSPOT_MIN_REPORTS = env.int("CITYOPS_HOTSPOT_MIN_REPORTS", default=5)
CITYOPS_HOTSPOT_P_VALUE = env.float("CITYOPS_HOTSPOT_P_VALUE", default=0.001)
# The case search's export (CSV/XLSX) writes at most this many rows of the filtered list.
CITYOPS_CASE_EXPORT_MAX = env.int("CITYOPS_CASE_EXPORT_MAX", default=10000)
# Maps: at most this many case points in one answer (the rest: narrow the search or zoom in).
CITYOPS_MAP_MAX_POINTS = env.int("CITYOPS_MAP_MAX_POINTS", default=2000)
# The base map's tile URL ({z}/{x}/{y}), e.g. the city's own GIS or 天地图 (Tianditu) with its
# key; unset, the maps draw the grid cells alone. Attribution shown in the corner of the map.
MAP_TILE_URL = env.str("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="")
if MAP_TILE_URL:  # the base map's tiles are images from its server ({s}: any subdomain)
    _tiles = urlsplit(MAP_TILE_URL.replace("{s}", "*"))
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(f"{_tiles.scheme}://{_tiles.netloc}")
# Reply deadline of supervision orders created on a breach.
CITYOPS_SUPERVISION_REPLY = [1, "working_days"]

# The 12345 hotline (workflows.flows.hotline). Limits as [value, unit]; handling by request
# type, and by urgency where the value is a dict. Defaults: Guangdong's published limits
# (consultation 2 working days, help and suggestion 10, complaint and report 15; dispatch
# within 2 h when urgent, 24 h otherwise); the handling clock starts at dispatch.
CITYOPS_HOTLINE_LIMITS = {
    "dispatch": {"normal": [24, "natural_hours"], "urgent": [2, "natural_hours"]},
    "sign": [2, "working_hours"],
    "handling": {
        "consultation": [2, "working_days"],
        "help": [10, "working_days"],
        "suggestion": [10, "working_days"],
        "complaint": [15, "working_days"],
        "report": [15, "working_days"],
        "praise": [2, "working_days"],
    },
    # Assisting units' feedback, from dispatch (never later than the handling due time).
    "assist_feedback": [3, "working_days"],
    "ruling": [4, "working_hours"],
    # The callback opens from the next working day after the reply.
    "callback": [2, "working_days"],
    "rehandle": [5, "working_days"],
}
# "Could not reach" needs this many call attempts.
CITYOPS_HOTLINE_CALLBACK_ATTEMPTS = 3
# Callbacks only from the next working day after the reply; the demo (DEBUG) allows them at
# once so that a whole order can be tried in one sitting.
CITYOPS_HOTLINE_CALLBACK_NEXT_DAY = env.bool("CITYOPS_HOTLINE_CALLBACK_NEXT_DAY", default=not DEBUG)
# Duplicate candidates: same category, open, within this distance and time window.
CITYOPS_DUPLICATE_METRES = 200
CITYOPS_DUPLICATE_DAYS = 7
CITYOPS_DUPLICATE_HOTSPOT = 5
# The citizens' progress query (page and API): look-ups per client address and minute.
CITYOPS_PUBLIC_QUERY_RATE = env.int("CITYOPS_PUBLIC_QUERY_RATE", default=10)
# Texts to citizens: a function send(to, text); the console backend logs them (the demo).
CITYOPS_SMS_BACKEND = env.str(
    "CITYOPS_SMS_BACKEND", default="workflows.integrations.sms.console_send"
)

# Open311: publish the reporters' "before" photos of listed cases (media_url, and the photo URL
# then opens without login). Off by default: photos are for those who may see the case.
CITYOPS_OPEN311_PUBLIC_PHOTOS = env.bool("CITYOPS_OPEN311_PUBLIC_PHOTOS", default=False)
# Open311: round published coordinates to this many decimals (3 ≈ 100 m); empty: exact.
CITYOPS_OPEN311_COORDINATE_DECIMALS = env.int("CITYOPS_OPEN311_COORDINATE_DECIMALS", default=None)

# Contact shown in Open311 discovery (default: DEFAULT_FROM_EMAIL).
OPEN311_CONTACT = env.str("OPEN311_CONTACT", default="")
