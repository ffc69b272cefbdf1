"""The one settings module of city311. Every value comes from the environment through the
helpers in ``backend.env``, with a safe development default; ``.env.example`` documents them."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from backend.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CITY311_VAR_DIR", str(BASE_DIR / ".var")))

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
DEBUG = env_bool("DEBUG", True)
ENVIRONMENT = env_str("CITY311_ENV", "development")  # development | test | production
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if ENVIRONMENT == "production":
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a private value of at least 32 characters in production"
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production (DEBUG=0)")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute base used to build public URLs (photo links) outside a request.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "backend.accounts.admin_app.AdminConfig",  # django.contrib.admin, log-in throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from here, not from a CDN
    "django_filters",
    "channels",
    "backend.catalog",
    "backend.service_requests",
    "backend.photos",
    "backend.open311",
    "backend.outbox",
    "workorders",
    "workorders.crewapp",  # the crews' field app at /crew/ (templates, static files)
    "mobile_api",
    "analytics",
    "chatbot",
    "backend.web",
    "backend.alerts",  # area alerts and the public Atom feeds
]
if env_bool("CITY311_BENCH", False):
    # The bench-only baseline endpoint (bench/baseline): one bare DRF insert on the same stack.
    INSTALLED_APPS.append("bench.baseline")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Pages and JSON compressed for phones on a weak link (bench/apps.py); Django's own
    # middleware pads each answer at random against BREACH-style length guessing.
    "django.middleware.gzip.GZipMiddleware",
    "backend.middleware.RequestBodyLimitMiddleware",
    "backend.middleware.NulCharacterMiddleware",
    "backend.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backend.middleware.SyncChainMiddleware",  # last: the chain runs sync (see its docstring)
]

ROOT_URLCONF = "backend.urls"
APPEND_SLASH = False  # API paths are exact: /mobile/v1/requests, never /mobile/v1/requests/

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
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

ASGI_APPLICATION = "backend.asgi.application"
WSGI_APPLICATION = "backend.wsgi.application"

# --- Database: PostGIS through psycopg 3 and its connection pool. Persistent connections
# break under ASGI (each request runs in its own thread), so CONN_MAX_AGE stays 0 and the
# pool does the reuse.
# The private cluster of `make run`/`make test` (backend/scripts/services.sh) by default.
PG_PORT = env_int("CITY311_PG_PORT", 54329, minimum=1)
REDIS_PORT = env_int("CITY311_REDIS_PORT", 63799, minimum=1)
DATABASE_URL = env_str("DATABASE_URL", f"postgis://city311:city311@127.0.0.1:{PG_PORT}/city311")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
if _db["ENGINE"] in ("django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"):
    _db["ENGINE"] = "django.contrib.gis.db.backends.postgis"
else:
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL with PostGIS")
_db["CONN_MAX_AGE"] = 0
_db.setdefault("OPTIONS", {})
if env_bool("DB_POOL", True):
    _db["OPTIONS"]["pool"] = {
        "min_size": env_int("DB_POOL_MIN", 2, minimum=0),
        "max_size": env_int("DB_POOL_MAX", 20, minimum=1),
        "timeout": env_int("DB_POOL_TIMEOUT", 10, minimum=1),
    }
    # With the pool, Django checks each connection as it leaves the pool: after a database
    # restart the broken ones are dropped and new ones made, with no application restart.
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Channels, Celery
# Tests use Redis database 1 so they never feed the tasks of a running `make run`.
REDIS_URL = env_str(
    "REDIS_URL", f"redis://127.0.0.1:{REDIS_PORT}/{1 if ENVIRONMENT == 'test' else 0}"
)
# Redis pub/sub: one PUBLISH per group message, fanned out to the consumers inside each ASGI
# process (ADR 0012). Channel names of pub/sub ignore the Redis database number, hence a
# prefix per environment.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [env_str("CHANNELS_REDIS_URL", REDIS_URL)],
            "prefix": env_str("CHANNELS_PREFIX", f"city311_{ENVIRONMENT}_"),
        },
    }
}
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-way runs again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task a worker took but never acknowledged (the worker was killed) is handed to
    # another worker after this many seconds. Longer than any task runs or waits for a retry
    # (retry_backoff caps at 600 s): shorter would run live tasks twice.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_S", 900, minimum=5),
    # Publishing gives up at once when the broker is away (kombu would retry for ~6 s): the
    # outbox keeps the task and its dispatcher tries again (backend/outbox).
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_TIMEZONE = "UTC"
# Seconds between escalation scans of work orders (marks overdue, e-mails supervisors).
WORKORDER_ESCALATION_INTERVAL_S = env_int("WORKORDER_ESCALATION_INTERVAL_S", 180, minimum=10)
# Analytics (docs/metrics.md, ADR 0014): seconds between refreshes of the daily rollups (past
# days are at most this stale; today is always read live), the kind of area equity is
# measured by, and the side of the hotspot map's grid cells in metres.
ANALYTICS_ROLLUP_INTERVAL_S = env_int("ANALYTICS_ROLLUP_INTERVAL_S", 30, minimum=5)
ANALYTICS_AREA_KIND = env_str("ANALYTICS_AREA_KIND", "district")
ANALYTICS_CELL_DEGREES = env_int("ANALYTICS_CELL_METERS", 500, minimum=50) / 111_320
# The retention run (docs/reliability.md, "Privacy") each night at this hour, UTC
# (CELERY_TIMEZONE), a quarter past.
RETENTION_HOUR = env_int("RETENTION_HOUR", 3, minimum=0)
# The alerts' daily digests (backend/alerts) go out each day at this hour, UTC, on the hour.
ALERTS_DIGEST_HOUR = env_int("ALERTS_DIGEST_HOUR", 7, minimum=0)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "alerts-digest-send": {
        "task": "backend.alerts.tasks.alerts_digest_send",
        "schedule": crontab(minute=0, hour=ALERTS_DIGEST_HOUR),
    },
    "work-orders-escalate": {
        "task": "workorders.tasks.work_orders_escalate",
        "schedule": float(WORKORDER_ESCALATION_INTERVAL_S),
    },
    "photos-process-pending": {
        "task": "backend.photos.tasks.photos_process_pending",
        "schedule": 300.0,
    },
    "photos-raw-uploads-sweep": {
        "task": "backend.photos.tasks.raw_uploads_sweep",
        "schedule": 3600.0,
    },
    "chat-photos-sweep": {
        "task": "chatbot.tasks.chat_photos_sweep",
        "schedule": 3600.0,
    },
    "open311-tokens-process-pending": {
        "task": "backend.open311.tasks.intake_tokens_process_pending",
        "schedule": 60.0,
    },
    "analytics-rollups-refresh": {
        "task": "analytics.tasks.analytics_rollups_refresh",
        "schedule": float(ANALYTICS_ROLLUP_INTERVAL_S),
    },
    "retention-apply": {
        "task": "backend.service_requests.tasks.retention_apply",
        "schedule": crontab(minute=15, hour=RETENTION_HOUR),
    },
}

# --- Auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Django's model backend with the log-in lock-out (backend/ratelimit.py).
AUTHENTICATION_BACKENDS = ["backend.ratelimit.LockoutModelBackend"]
# Everyone who is not admin staff signs in here (backend/accounts): residents, crews, and
# staff on their way to the console; the admin's own log-in stays at /admin/login/.
LOGIN_URL = "/accounts/login/"

# --- Rate limits (backend/ratelimit.py): "count/seconds", counted in Redis per client
# address and per API key, account or conversation. The defaults are what a city runs with
# (docs/reliability.md, "Rate limits"); benches and the test suite raise them through their
# own settings (RATELIMIT_* in the environment, tests/conftest.py).
RATELIMIT_DEFAULTS = {
    "INTAKE_IP": "20/600",  # filings per address (residents, anonymous or signed in)
    "INTAKE_KEY": "10/600",  # filings per signed-in resident's account
    "INTAKE_PARTNER": "600/600",  # filings per Open311 API key or staff account
    "LOGIN_IP": "60/600",  # log-in attempts per address (sign-ups, resets: the same rate)
    "LOGIN_FAILED_IP": "20/900",  # failed log-ins per address, whatever the account
    "CHAT_IP": "120/600",  # chat messages per address
    "CHAT_KEY": "40/600",  # chat messages per conversation, account or SMS/WhatsApp number
}
RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
RATELIMIT_REDIS_URL = env_str("RATELIMIT_REDIS_URL", REDIS_URL)
RATELIMIT_INTAKE_IP = env_str("RATELIMIT_INTAKE_IP", RATELIMIT_DEFAULTS["INTAKE_IP"])
RATELIMIT_INTAKE_KEY = env_str("RATELIMIT_INTAKE_KEY", RATELIMIT_DEFAULTS["INTAKE_KEY"])
RATELIMIT_INTAKE_PARTNER = env_str("RATELIMIT_INTAKE_PARTNER", RATELIMIT_DEFAULTS["INTAKE_PARTNER"])
RATELIMIT_LOGIN_IP = env_str("RATELIMIT_LOGIN_IP", RATELIMIT_DEFAULTS["LOGIN_IP"])
RATELIMIT_LOGIN_FAILED_IP = env_str(
    "RATELIMIT_LOGIN_FAILED_IP", RATELIMIT_DEFAULTS["LOGIN_FAILED_IP"]
)
RATELIMIT_CHAT_IP = env_str("RATELIMIT_CHAT_IP", RATELIMIT_DEFAULTS["CHAT_IP"])
RATELIMIT_CHAT_KEY = env_str("RATELIMIT_CHAT_KEY", RATELIMIT_DEFAULTS["CHAT_KEY"])
for _name in RATELIMIT_DEFAULTS:
    if not re.fullmatch(r"[1-9][0-9]*/[1-9][0-9]*", globals()[f"RATELIMIT_{_name}"]):
        raise ImproperlyConfigured(f"RATELIMIT_{_name} must read count/seconds, such as 30/60")
# Wrong passwords for one account from one address before its log-in locks, and for how long.
LOGIN_LOCKOUT_FAILURES = env_int("LOGIN_LOCKOUT_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)

# --- Internationalisation: English, Spanish, Vietnamese.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("vi", "Tiếng Việt")]
LOCALE_PATHS = [BASE_DIR / "backend" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")  # the city's own time zone
USE_I18N = True
USE_TZ = True

# --- The residents' web pages (backend/web). Map tiles: OpenStreetMap by default; empty means
# no tile layer (tests, offline): the pin, the address field and "use my location" still work.
WEB_MAP_TILE_URL = env_str("WEB_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
WEB_MAP_ATTRIBUTION = env_str("WEB_MAP_ATTRIBUTION", "&copy; OpenStreetMap contributors")
WEB_MAP_CENTER = env_list("WEB_MAP_CENTER", ["42.3601", "-71.0589"])  # lat, long
# The track page polls its JSON every this many seconds as a fallback to the websocket.
WEB_TRACK_POLL_SECONDS = env_int("WEB_TRACK_POLL_SECONDS", 10, minimum=1)

# --- Static and media. Media holds processed photos only (metadata stripped); raw uploads
# wait for processing in a private folder that is never served.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# collectstatic writes a gzip (and Brotli) copy beside each file; WhiteNoise serves the
# compressed one to browsers that accept it (a third of Leaflet's bytes over a phone link).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = env_str("MEDIA_URL", "/media/")
_default_media = VAR_DIR / ("test-media" if ENVIRONMENT == "test" else "media")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(_default_media)))
PRIVATE_UPLOAD_ROOT = Path(
    env_str("PRIVATE_UPLOAD_ROOT", str(MEDIA_ROOT.parent / (MEDIA_ROOT.name + "-private")))
)
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)

# --- Photo limits
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 15 * 1024 * 1024, minimum=1)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 50_000_000, minimum=1)
PHOTO_MAX_PER_REQUEST = env_int("PHOTO_MAX_PER_REQUEST", 5, minimum=1)
PHOTO_DISPLAY_MAX_PX = 1600
PHOTO_THUMBNAIL_MAX_PX = 400
# Moderation: a blurred photo's unblurred display image is kept privately (staff may need it
# as evidence) unless this is off, when it is deleted at once.
MODERATION_KEEP_ORIGINAL = env_bool("MODERATION_KEEP_ORIGINAL", True)
# Whole request bodies: five 15 MB photos plus the form fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 80 * 1024 * 1024, minimum=1)

# --- Intake
# Seconds each process keeps a service's definition for intake (0: always read the database).
CATALOG_CACHE_SECONDS = env_int("CATALOG_CACHE_SECONDS", 30, minimum=0)
# Open311's public request lists (GET requests.json/.xml with the same query) are answered
# from a per-process memo for this long: pollers asking the same question share one
# database read. A new request shows in them within this time (0: no memo, as in tests).
OPEN311_LIST_CACHE_SECONDS = env_int("OPEN311_LIST_CACHE_SECONDS", 5, minimum=0)
DUPLICATE_RADIUS_M = env_int("DUPLICATE_RADIUS_M", 50, minimum=1)
DUPLICATE_WINDOW_DAYS = env_int("DUPLICATE_WINDOW_DAYS", 30, minimum=1)
# The reporter may correct the description and add photos for this many minutes after
# filing (backend/intake/edit.py); 0 switches editing off.
EDIT_WINDOW_MINUTES = env_int("EDIT_WINDOW_MINUTES", 15, minimum=0)

# --- Work orders (workorders/)
# A proof photo must be taken within this many metres of the request's location.
PROOF_PHOTO_MAX_DISTANCE_M = env_int("PROOF_PHOTO_MAX_DISTANCE_M", 100, minimum=1)
# "Not fixed" feedback reopens the request within this many days of its closing.
FEEDBACK_REOPEN_DAYS = env_int("FEEDBACK_REOPEN_DAYS", 14, minimum=0)
# The signed feedback link in the closing e-mail works for this many days.
FEEDBACK_LINK_MAX_AGE_DAYS = env_int("FEEDBACK_LINK_MAX_AGE_DAYS", 60, minimum=1)

# --- Area alerts and feeds (backend/alerts; docs/architecture.md)
# The largest radius around a point an alert subscription or an Atom feed may ask for.
ALERTS_RADIUS_MAX_M = env_int("ALERTS_RADIUS_MAX_M", 5000, minimum=1)
# The city's boundary, a point of an alert must be inside: a GeoJSON file's path (a Polygon,
# MultiPolygon, Feature or FeatureCollection) or WKT. Empty: the union of the loaded areas
# (no check at all while there are none).
CITY_BOUNDARY = env_str("CITY_BOUNDARY", "")
# An e-mail subscription not confirmed within this many days is deleted (retention_apply);
# the confirmation link works as long.
ALERTS_UNCONFIRMED_DAYS = env_int("ALERTS_UNCONFIRMED_DAYS", 7, minimum=1)
# The newest requests an Atom feed shows.
ALERTS_FEED_LIMIT = env_int("ALERTS_FEED_LIMIT", 50, minimum=1)

# --- Retention (backend/service_requests/retention.py, docs/reliability.md "Privacy")
# A request closed this many days ago loses its reporter's contact data everywhere it lives
# (unless staff put it on legal hold); a resident account inactive this many months is
# anonymised. Celery beat runs it nightly at RETENTION_HOUR (see CELERY_BEAT_SCHEDULE).
RETENTION_CLOSED_DAYS = env_int("RETENTION_CLOSED_DAYS", 365, minimum=1)
RETENTION_ACCOUNT_MONTHS = env_int("RETENTION_ACCOUNT_MONTHS", 24, minimum=1)

# --- Open311 GeoReport v2 (/open311/v2/, backend/open311, docs/open311.md)
# The one jurisdiction this server serves: clients may omit jurisdiction_id or send this.
OPEN311_JURISDICTION_ID = env_str("OPEN311_JURISDICTION_ID", "city311")
# Who issues API keys, shown in discovery.
OPEN311_CONTACT = env_str("OPEN311_CONTACT", "311 API team <open311@city311.invalid>")
# POST requests answers a token at once and a worker files the request (tokens/{token}).
OPEN311_ASYNC_INTAKE = env_bool("OPEN311_ASYNC_INTAKE", False)

# --- Chatbot (chatbot/, docs/chatbot.md): Django relays to the Rasa assistant on loopback.
CHATBOT_RASA_URL = env_str(
    "CHATBOT_RASA_URL", f"http://127.0.0.1:{env_int('CHATBOT_RASA_PORT', 5005, minimum=1)}"
)
# A turn may file a request (the assistant's action calls Open311), so not too short.
CHATBOT_RASA_TIMEOUT_SECONDS = env_int("CHATBOT_RASA_TIMEOUT_SECONDS", 15, minimum=1)
# Offered when the assistant is down or does not understand twice.
CHATBOT_WEB_FORM_URL = env_str("CHATBOT_WEB_FORM_URL", "/report")
# "Talk to a person" (chatbot/handoffs.py): the call centre's hours are the opening hours and
# holidays of this department (workorders.OpeningHours, the same calendar as its SLAs); unset
# or unknown: Monday to Friday, 08:00-17:00 in TIME_ZONE. A number kept for a callback or an
# agent's answer is erased when the agent closes the conversation, or after this many days.
CHATBOT_AGENT_DEPARTMENT = env_str("CHATBOT_AGENT_DEPARTMENT", "")
CHATBOT_HANDOFF_KEEP_DAYS = env_int("CHATBOT_HANDOFF_KEEP_DAYS", 7, minimum=1)
# Messaging gateways (chatbot/gateway.py; docs/chatbot.md, "SMS and WhatsApp"). Phone numbers
# are known by a keyed hash (HMAC-SHA256 with this key; derived from SECRET_KEY when unset:
# set it in production, or a new SECRET_KEY forgets who opted out).
CHATBOT_GATEWAY_KEY = env_str("CHATBOT_GATEWAY_KEY", "")
CHATBOT_GATEWAY_TIMEOUT_SECONDS = env_int("CHATBOT_GATEWAY_TIMEOUT_SECONDS", 10, minimum=1)
# SMS through Twilio: the webhook POST /api/v1/chat/twilio is signed with the auth token (no
# token: every webhook is refused). Behind a proxy, the public address Twilio calls (as
# "https://311.example.org") is what the signature covers: set TWILIO_WEBHOOK_BASE_URL.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com")
TWILIO_WEBHOOK_BASE_URL = env_str("TWILIO_WEBHOOK_BASE_URL", "")
# The only hosts an MMS photo is fetched from, redirects included: https unless an entry
# names its scheme ("http://127.0.0.1:8080"); "*." matches subdomains.
TWILIO_MEDIA_HOSTS = env_list(
    "TWILIO_MEDIA_HOSTS", ["api.twilio.com", "mms.twiliocdn.com", "media.twiliocdn.com"]
)
# WhatsApp through Meta's Cloud API: GET/POST /api/v1/chat/whatsapp.
WHATSAPP_API_BASE_URL = env_str("WHATSAPP_API_BASE_URL", "https://graph.facebook.com/v21.0")
WHATSAPP_ACCESS_TOKEN = env_str("WHATSAPP_ACCESS_TOKEN", "")
WHATSAPP_PHONE_NUMBER_ID = env_str("WHATSAPP_PHONE_NUMBER_ID", "")
WHATSAPP_APP_SECRET = env_str("WHATSAPP_APP_SECRET", "")
WHATSAPP_VERIFY_TOKEN = env_str("WHATSAPP_VERIFY_TOKEN", "")
WHATSAPP_MEDIA_HOSTS = env_list("WHATSAPP_MEDIA_HOSTS", ["lookaside.fbsbx.com"])
# The approved template a status message goes out as outside the 24-hour window; its body
# takes two parameters: the request's number and the status in a sentence.
WHATSAPP_STATUS_TEMPLATE = env_str("WHATSAPP_STATUS_TEMPLATE", "city311_status")

# --- E-mail (console in development)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "city311 <no-reply@city311.invalid>")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)

# --- REST framework and the OpenAPI schema
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "backend.parsers.JSONParser",  # DRF's, with too-deep bodies answered 400
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "backend.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Push messages to the mobile app: the dotted path of a class with
# ``send(*, platform, push_token, message)`` (mobile_api/push.py); the console one logs.
MOBILE_PUSH_BACKEND = env_str("MOBILE_PUSH_BACKEND", "mobile_api.push.ConsolePushBackend")
# Web Push (browsers' push services, RFC 8030/8291/8292; mobile_api/push.py, ADR 0017). The
# VAPID pair as base64url: the private key's 32 bytes and the public key's 65-byte point
# (`manage.py webpush_keys` makes a pair; `make run` keeps a development one in
# .var/vapid.env). Without the private key, browsers cannot subscribe (503).
WEB_PUSH_VAPID_PUBLIC_KEY = env_str("WEB_PUSH_VAPID_PUBLIC_KEY", "").strip()
WEB_PUSH_VAPID_PRIVATE_KEY = env_str("WEB_PUSH_VAPID_PRIVATE_KEY", "").strip()
# Who the push services contact about our pushes: a mailto: or https: URL.
WEB_PUSH_SUBJECT = env_str("WEB_PUSH_SUBJECT", "mailto:webpush@city311.example.org")
if not WEB_PUSH_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured("WEB_PUSH_SUBJECT must be a mailto: or https:// URL")
# The only hosts a subscription's endpoint may name (https only): the browser vendors' push
# services. "*." matches subdomains; "host:port" allows that port (443 otherwise). IP
# literals only when listed. Nothing else is ever fetched: no request-forgery path.
WEB_PUSH_ALLOWED_HOSTS = env_list(
    "WEB_PUSH_ALLOWED_HOSTS",
    [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "*.push.services.mozilla.com",
        "web.push.apple.com",
        "*.notify.windows.com",
    ],
)
# Seconds a push service keeps a message for a browser that is offline.
WEB_PUSH_TTL = env_int("WEB_PUSH_TTL", 172800, minimum=0)
# A CA bundle (PEM) to verify the push services with, instead of the system's (tests point it
# at their local stand-in's certificate). Certificates are always checked.
WEB_PUSH_CA_BUNDLE = env_str("WEB_PUSH_CA_BUNDLE", "")
SPECTACULAR_SETTINGS = {
    "TITLE": "city311 API",
    "DESCRIPTION": "Service requests for a city: the mobile API (/mobile/v1/) and the Open311 "
    "GeoReport v2 server (/open311/v2/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "OAS_VERSION": "3.1.0",  # its schemas are plain JSON Schema: tests validate answers with them
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body as the view reads it (its required fields required), not all optional.
    "COMPONENT_SPLIT_PATCH": False,
    # /api/docs/: Swagger UI vendored (drf-spectacular-sidecar), its start-up script a file of
    # its own (SpectacularSwaggerSplitView): it works under script-src 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge from validator.swagger.io: nothing leaves the site (img-src of the policy).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.api_errors.openapi_document_415",
        "backend.api_errors.openapi_document_parameters",
    ],
}

# --- Production hardening
if ENVIRONMENT == "production":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    CSRF_COOKIE_SAMESITE = "Lax"
    X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy header of every answer (backend/middleware.py), in every environment
# (development and tests too, so a page that breaks under it fails a test): scripts (Leaflet,
# OpenLayers in the admin, Swagger UI at /api/docs/) only from this site, no inline scripts;
# images from here, the map tiles' host and an absolute MEDIA_URL's host. Empty: no header.
_origins = " ".join(
    f"{part.scheme}://{part.netloc}"
    for part in (urlsplit(WEB_MAP_TILE_URL), urlsplit(MEDIA_URL))
    if part.scheme in ("http", "https") and part.netloc
)
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    f"img-src 'self' data: blob: {_origins}; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

# GDAL < 3.9 (Debian 12 ships 3.6) cannot block file/network access from spatial reference
# strings. city311 never builds a spatial reference from user input: locations arrive as
# numbers and are stored in SRID 4326 only.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
