"""Settings, read from the environment. This docstring is the one list of every variable.

With no environment at all you get the embedded default: SQLite file, Celery tasks run
eagerly in-process, SMS to the console and the development SMS page, email to the
console, the sandbox bank gateway, DEBUG on, development keys.

With ``DJANGO_DEBUG=false`` the settings refuse to start while the secret key, the field
encryption keys or the PII HMAC key (and, with HttpBankGateway, the bank's URL and keys) are
missing or are the development ones, and
``manage.py check --deploy`` passes.

===========================  ==============================================================
Variable                     Meaning (default)
===========================  ==============================================================
DJANGO_DEBUG                 ``true``/``false`` (true). Off in production.
DJANGO_SECRET_KEY            Django secret key, 50+ characters (development key).
ALLOWED_HOSTS                Comma separated host names (localhost, 127.0.0.1, [::1]).
CSRF_TRUSTED_ORIGINS         Comma separated origins, e.g. ``https://loans.example.cn`` ().
DATABASE_URL                 ``postgres://user:pass@host:5432/name`` (``sqlite:///db.sqlite3``).
DATABASE_CONN_MAX_AGE        Seconds a database connection is reused (60).
DATABASE_PREPARED            PostgreSQL: ``true`` binds parameters on the server and prepares
                             each query a connection runs twice, so PostgreSQL plans it once
                             per connection instead of on every run (true). ``false`` behind a
                             pooler in transaction mode (PgBouncer), where a prepared query
                             does not follow its connection.
DATABASE_REPLICA_URL         A read replica of DATABASE_URL; auditors' exports read from it ().
CACHE_URL                    ``redis://127.0.0.1:6379/1`` (sessions are then read from it) or
                             ``locmemcache://`` (locmem).
CACHE_RETRY_SECONDS          After Redis as the cache fails to answer, each process reads
                             sessions from the database alone this long before it tries
                             Redis again (5).
SIGNIN_CACHE_SECONDS         How long a borrower's verified sign-in (user and device rows) is
                             kept in Redis between requests; 0 reads them on every request
                             (60; accounts/signin_cache.py).
CELERY_BROKER_URL            ``redis://127.0.0.1:6379/0``. Unset: tasks run eagerly in-process.
FIELD_ENCRYPTION_KEYS        Comma separated Fernet keys; the first encrypts, all decrypt
                             (key rotation). Generate one with
                             ``python -c "from cryptography.fernet import Fernet;
                             print(Fernet.generate_key().decode())"`` (development key).
PII_HMAC_KEY                 Secret for HMAC fingerprints of ID and card numbers, 32+
                             characters (development key).
EMAIL_URL                    ``smtp+tls://user:pass@host:587`` (``consolemail://``).
DEFAULT_FROM_EMAIL           Sender of platform email (``noreply@lending.localhost``).
SMS_BACKEND                  Dotted path of the SMS backend: ``accounts.sms.DevelopmentBackend``
                             (console + development SMS page, the default),
                             ``accounts.sms.ConsoleBackend``, ``accounts.sms.DatabaseBackend``,
                             ``accounts.sms.HttpBackend`` (a real provider, below).
SMS_HTTP_URL                 HttpBackend: the provider's endpoint; JSON is POSTed to it ().
SMS_HTTP_SECRET              HttpBackend: key of the ``X-Signature`` HMAC-SHA256 header ().
SMS_HTTP_TIMEOUT             HttpBackend: seconds to wait for the provider (10).
BANK_GATEWAY                 Dotted path of the bank gateway adapter
                             (``cards.gateways.http.HttpBankGateway``: a bank over HTTP as
                             sandboxes/bank/PROTOCOL.md defines it, set up by the four below).
BANK_HTTP_URL                HttpBankGateway: the bank's base URL (http://127.0.0.1:8100, the
                             sandbox bank; required when DEBUG is off).
BANK_HTTP_TIMEOUT            HttpBankGateway: connect and read timeouts in seconds, comma
                             separated (3,15).
BANK_PLATFORM_PRIVATE_KEY    HttpBankGateway: the platform's RSA private key (PEM text, or the
                             path of a PEM file) that signs requests; the bank holds its public
                             key (development key in cards/gateways/dev_keys/, refused when DEBUG
                             is off).
BANK_PUBLIC_KEY              HttpBankGateway: the bank's RSA public key (PEM text or path) that
                             checks its answers and notices (var/sandbox-bank/bank_public.pem,
                             the key the sandbox bank makes itself; required when DEBUG is off).
IDENTITY_PROVIDER            Dotted path of the identity-provider adapter
                             (``accounts.identity.tencent.TencentIdentityProvider``: Tencent
                             Cloud FaceID through its SDK, or the sandbox simulator, by
                             FACEID_ENDPOINT), with the six below.
FACEID_ENDPOINT              Where FaceID is reached: ``https://faceid.tencentcloudapi.com``
                             (the default when DEBUG is off) or the simulator,
                             ``http://127.0.0.1:8200`` (sandboxes/faceid; the DEBUG default).
FACEID_SECRET_ID             Tencent Cloud API SecretId (the simulator's development pair when
                             DEBUG is on; required when DEBUG is off).
FACEID_SECRET_KEY            Tencent Cloud API SecretKey (as above; the development key is
                             refused when DEBUG is off).
FACEID_REGION                Tencent Cloud region (ap-guangzhou).
FACEID_RULE_ID               The liveness flow's RuleId from the FaceID console (``1`` in the
                             sandbox; required when DEBUG is off).
FACEID_TIMEOUT               Seconds to wait for FaceID's answer (5).
DJANGO_SECURE_SSL_REDIRECT   Redirect http to https when DEBUG is off (true).
DJANGO_SECURE_PROXY_SSL      Trust ``X-Forwarded-Proto: https`` from the proxy in front (false).
NUM_PROXIES                  Reverse proxies in front that append to X-Forwarded-For; the
                             client IP is read that many hops from the right (0: REMOTE_ADDR).
LOG_LEVEL                    Root log level (INFO).
SITE_URL                     How staff reach this site: the links in officers' emails start with it
                             (http://127.0.0.1:8000; ``make run PORT=...`` sets it to that port).
OUTBOX_RELAY_SECONDS         How often beat republishes outbox messages left pending (30).
AUDIT_SIGNING_KEY            Ed25519 private key (32 random bytes, urlsafe base64) that signs the
                             daily audit-chain checkpoints; unset in production: no checkpoints
                             (development key). Generate one with ``python -c "import base64,
                             os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"``.
AUDIT_CHECKPOINT_DIR         Where checkpoints are written: a volume the database host cannot
                             write, copied off-site (var/audit-checkpoints).
AUDIT_EXPORT_DIR             Where finished audit exports are kept until downloaded; never
                             served as static or media files (var/audit-exports).
CLOSURE_COOLING_OFF_DAYS     Days between asking to close an account and its closure (7);
                             0 in development closes at the next complete_account_closures.
PRIVACY_COPY_DIR             Where borrowers' copies of their data are kept until downloaded or
                             expired; never served as static or media files (var/data-copies).
API_DOCS_ENABLED             Serve the app API's OpenAPI document and docs page (on with DEBUG).
API_TOKEN_IDLE_DAYS          An app's device token unused this many days ends (30).
API_TOKEN_MAX_DAYS           An app's device token ends this many days after sign-in (90).
API_TOKEN_REQUESTS_PER_MINUTE  Requests one device token may make a minute (120).
===========================  ==============================================================
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Development keys: usable only with DEBUG on; production refuses them (see below).
DEV_SECRET_KEY = "dev-insecure-secret-key-for-local-use-only-never-in-production-0123456789"  # noqa: S105 - refused when DEBUG is off
DEV_FIELD_ENCRYPTION_KEY = "bPX0s4WAu-U4WUiCJKYyBn6ELldHFcrAT6_h8oTdILc="
DEV_PII_HMAC_KEY = "dev-insecure-pii-hmac-key-for-local-use-only"
DEV_AUDIT_SIGNING_KEY = "ZGV2LWluc2VjdXJlLWF1ZGl0LXNpZ25pbmcta2V5ISE="  # 32 bytes, Ed25519 seed


def _production_secret(name, dev_value, min_length):
    value = env.str(name, default="")
    if DEBUG:
        return value or dev_value
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off.")
    if value == dev_value or value.startswith("dev-"):
        raise ImproperlyConfigured(f"{name} is a development key; set a real one.")
    if len(value) < min_length:
        raise ImproperlyConfigured(f"{name} must be at least {min_length} characters.")
    return value


def _same_rsa_key(name: str, value: str, dev_path: str) -> bool:
    """Whether a private key (PEM text or path) is the development one, however it is encoded."""
    try:
        pem = value.encode() if value.lstrip().startswith("-----BEGIN") else Path(value).read_bytes()
        key = load_pem_private_key(pem, password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is not a readable PEM private key.") from exc
    dev = load_pem_private_key(Path(dev_path).read_bytes(), password=None)
    return key.public_key().public_numbers() == dev.public_key().public_numbers()


SECRET_KEY = _production_secret("DJANGO_SECRET_KEY", DEV_SECRET_KEY, min_length=50)
PII_HMAC_KEY = _production_secret("PII_HMAC_KEY", DEV_PII_HMAC_KEY, min_length=32)

FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off.")
    FIELD_ENCRYPTION_KEYS = [DEV_FIELD_ENCRYPTION_KEY]
if not DEBUG and DEV_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds the development key; set real ones.")
try:
    MultiFernet([Fernet(key) for key in FIELD_ENCRYPTION_KEYS])
except ValueError as exc:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be Fernet keys.") from exc

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "lending.apps.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # Django's form templates, for FORM_RENDERER below
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "phonenumber_field",
    "simple_history",
    "lending",
    "accounts",
    "cards",
    "audit",
    "support",
    "privacy",
    "ninja",
    "api",
]

MIDDLEWARE = [
    "audit.middleware.RequestContextMiddleware",
    "api.problems.ApiAnswersMiddleware",  # outside the rest: their refusals under /api/ too
    "django.middleware.security.SecurityMiddleware",
    "lending.middleware.RefuseNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lending.middleware.PrivatePagesMiddleware",
    "accounts.middleware.VerifiedSignInMiddleware",  # django-otp's, user and device in one query
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lending.csp.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "api.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "lending.urls"
WSGI_APPLICATION = "lending.wsgi.application"

# The portal's pages are Jinja2 templates in templates/portal/ (lending/portal_templates.py);
# everything else (the back office, form widgets, e-mails, text messages) is Django's engine.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "portal"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "lending.portal_templates.environment",
            "context_processors": [
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.portal",
                "lending.portal_templates.once_per_page",
            ],
        },
    },
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
            ],
        },
    },
]

# Forms render with the project's templates: error lists carry each error's code
# (templates/django/forms/errors/list/ul.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DATABASE_PREPARED", default=True):
        # Planning was most of PostgreSQL's CPU for the portal's one-row reads: 0.20 -> 0.09 ms
        # a request on /accounts/, 1.66 -> 0.39 on the review queue (bench/http_load.py).
        DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 2}
else:
    # `make run`: the portal, Celery and the bank's notices write at once. A write waits for the
    # lock (IMMEDIATE: a read never has to become a write, which SQLite refuses at once with
    # "database is locked"), and readers do not wait for writers (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**env.db("DATABASE_REPLICA_URL"), "TEST": {"MIRROR": "default"}}
    DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
DATABASE_ROUTERS = ["lending.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Sessions are read on every request: from the shared cache (Redis) when there is one, written
# through to the database so a flushed cache signs nobody out, and read from the database while
# Redis does not answer (lending/sessions.py). A per-process cache (locmem) cannot hold them: a
# sign-out seen by one process would not reach the others.
SHARED_CACHE = CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
if SHARED_CACHE:
    CACHES["default"]["BACKEND"] = "lending.cache.RedisCache"  # Django's, one client per process
    # A hung Redis must not hang pages: a cache call gives up after a quarter of a second.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", 0.25)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", 0.25)
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5)
SIGNIN_CACHE_SECONDS = env.int("SIGNIN_CACHE_SECONDS", default=60)
SESSION_ENGINE = "lending.sessions" if SHARED_CACHE else "django.contrib.sessions.backends.db"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.NotTheCurrentPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"

# Language and time
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
FORMAT_MODULE_PATH = ["lending.formats"]  # Chinese amounts with thousands separators, like English
USE_TZ = True

SIMPLE_HISTORY_REVERT_DISABLED = True  # history is a record; changes go through services

PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DB_FORMAT = "E164"

# Static files, served by whitenoise
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email and SMS
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@lending.localhost")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMS_BACKEND = env.str("SMS_BACKEND", default="accounts.sms.DevelopmentBackend")
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_SECRET = env.str("SMS_HTTP_SECRET", default="")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
BANK_GATEWAY = env.str("BANK_GATEWAY", default="cards.gateways.http.HttpBankGateway")
BANK_HTTP_URL = env.str("BANK_HTTP_URL", default="http://127.0.0.1:8100" if DEBUG else "")
BANK_HTTP_TIMEOUT = env.list("BANK_HTTP_TIMEOUT", cast=float, default=[3.0, 15.0])
DEV_BANK_PLATFORM_PRIVATE_KEY = str(BASE_DIR / "cards" / "gateways" / "dev_keys" / "platform_private.pem")
BANK_PLATFORM_PRIVATE_KEY = env.str(
    "BANK_PLATFORM_PRIVATE_KEY", default=DEV_BANK_PLATFORM_PRIVATE_KEY if DEBUG else ""
)
BANK_PUBLIC_KEY = env.str(
    "BANK_PUBLIC_KEY", default=str(BASE_DIR / "var" / "sandbox-bank" / "bank_public.pem") if DEBUG else ""
)
if not DEBUG and BANK_GATEWAY == "cards.gateways.http.HttpBankGateway":
    for _name in ("BANK_HTTP_URL", "BANK_PLATFORM_PRIVATE_KEY", "BANK_PUBLIC_KEY"):
        if not vars()[_name]:
            raise ImproperlyConfigured(f"{_name} must be set when DJANGO_DEBUG is off.")
    if _same_rsa_key("BANK_PLATFORM_PRIVATE_KEY", BANK_PLATFORM_PRIVATE_KEY, DEV_BANK_PLATFORM_PRIVATE_KEY):
        raise ImproperlyConfigured("BANK_PLATFORM_PRIVATE_KEY is the development key; set a real one.")

# The identity provider (accounts/identity/): Tencent Cloud FaceID, or its simulator in DEBUG.
IDENTITY_PROVIDER = env.str("IDENTITY_PROVIDER", default="accounts.identity.tencent.TencentIdentityProvider")
DEV_FACEID_SECRET_ID = "AKIDsandbox0000000000000000000000000"  # noqa: S105 - the sandbox's SecretId
DEV_FACEID_SECRET_KEY = "dev-sandbox-faceid-secret-key"  # noqa: S105 - refused when DEBUG is off
FACEID_ENDPOINT = env.str(
    "FACEID_ENDPOINT", default="http://127.0.0.1:8200" if DEBUG else "https://faceid.tencentcloudapi.com"
)
FACEID_SECRET_ID = env.str("FACEID_SECRET_ID", default=DEV_FACEID_SECRET_ID if DEBUG else "")
FACEID_SECRET_KEY = env.str("FACEID_SECRET_KEY", default=DEV_FACEID_SECRET_KEY if DEBUG else "")
FACEID_REGION = env.str("FACEID_REGION", default="ap-guangzhou")
FACEID_RULE_ID = env.str("FACEID_RULE_ID", default="1" if DEBUG else "")
FACEID_TIMEOUT = env.float("FACEID_TIMEOUT", default=5.0)
if not DEBUG and IDENTITY_PROVIDER == "accounts.identity.tencent.TencentIdentityProvider":
    for _name in ("FACEID_SECRET_ID", "FACEID_SECRET_KEY", "FACEID_RULE_ID"):
        if not vars()[_name]:
            raise ImproperlyConfigured(f"{_name} must be set when DJANGO_DEBUG is off.")
    if FACEID_SECRET_KEY == DEV_FACEID_SECRET_KEY:
        raise ImproperlyConfigured("FACEID_SECRET_KEY is the development key; set a real one.")

# Celery: with no broker, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep LOGGING below, with its PII filter
# Retry countdowns are capped at lending.celery.RETRY_BACKOFF_MAX (10 minutes); anything
# longer is stored in the database and picked up by beat. An unacknowledged task is
# redelivered after the visibility timeout, so it must exceed every countdown and time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
# Publishing at request time must fail fast when the broker is down: the outbox keeps the
# message and beat publishes it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
OUTBOX_RELAY_SECONDS = env.int("OUTBOX_RELAY_SECONDS", default=30)

# Rules for borrowers' accounts (policy, not deployment: change them here, with a reason).
SMS_CODE_TTL_SECONDS = 5 * 60
SMS_CODE_MAX_ATTEMPTS = 5  # wrong tries per code; then a new code must be requested
SMS_CODE_THROTTLE_FACTOR = 1  # django-otp back-off after wrong tries: 1, 2, 4, 8 s
SMS_CODE_RESEND_SECONDS = 60  # one code per number per minute
SMS_CODE_DAILY_LIMIT = 10  # codes per number per calendar day
SMS_CODE_IP_HOURLY_LIMIT = 30  # codes requested from one client IP per hour
LOGIN_MAX_FAILURES = 5  # wrong passwords per account before a lockout
LOGIN_IP_MAX_FAILURES = 20  # wrong passwords from one IP before a lockout
LOGIN_LOCKOUT_MINUTES = 15
LOGIN_PENDING_MINUTES = 10  # time to enter the login code after the password
REAUTH_MINUTES = 10  # sensitive steps need the password again within this time

# The app API (api/): device tokens, idempotency, limits, documentation.
API_TOKEN_IDLE_DAYS = env.int("API_TOKEN_IDLE_DAYS", default=30)  # unused this long: ended
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=90)  # ended this long after sign-in, used or not
API_TOKEN_REQUESTS_PER_MINUTE = env.int("API_TOKEN_REQUESTS_PER_MINUTE", default=120)
API_IDEMPOTENCY_HOURS = 24  # a key answers with its first answer this long
API_DOCS_ENABLED = env.bool("API_DOCS_ENABLED", default=DEBUG)  # the OpenAPI document and docs page
PHONE_CHANGE_LIMIT = 3  # phone changes per account ...
PHONE_CHANGE_WINDOW_DAYS = 30  # ... in this many days
PHONE_CHANGE_TTL_MINUTES = 30  # a started phone change must finish within this time
PHONE_NEW_NUMBERS_PER_DAY = 5  # new numbers entered per account in 24 h (each one is texted a code)
PHONE_NEW_NUMBERS_PER_IP_HOUR = 10  # new numbers entered from one client IP in an hour
# Identity checks the authority answered "no match" per account in 24 h; past them the step is
# refused without asking the provider (each check costs money; guessing someone's details).
IDENTITY_MISMATCHES_PER_DAY = 3
RISK_IDENTITY_MISMATCHES_DAY = 2  # more mismatches than this in 24 h raise a risk alert
# Identity checks asked of the authority from one client IP in 24 h, on any account (each costs
# money; one place trying many people's details); past it the refusal says when to try again.
IDENTITY_CHECKS_PER_IP_DAY = 20
# A new number (path a) the carrier does not confirm in the borrower's name goes to review.
PHONE_CHANGE_CARRIER_CHECK = True
# No loan is disbursed while the carrier's latest answer for the account phone is not "in the
# borrower's name" (another name, no record, no answer, never asked).
LOAN_NEEDS_CONFIRMED_PHONE = True
# An account phone the carrier did not answer about is asked again this often (beat), for
# ACCOUNT_PHONE_RECHECK_DAYS after that answer; a yes or no is final until the number changes.
ACCOUNT_PHONE_RECHECK_MINUTES = 60
ACCOUNT_PHONE_RECHECK_DAYS = 30
LOST_PHONE_FACE_CHECK = True  # a lost-phone request needs a passing face check before its case opens
# A lost-phone request with a passing face check and a new number the carrier confirms in the
# borrower's name is approved by the rule "lost_phone_auto_approve" instead of an officer
# (unless its risk score needs two approvals, or the number cannot be bound).
LOST_PHONE_AUTO_APPROVE = False
FACE_CHECKS_PER_REQUEST = 3  # face checks that did not pass before a lost-phone request ends
FACE_CHECK_STARTS_PER_REQUEST = 5  # face checks started per lost-phone request (each one costs money)
FACEID_MIN_SIMILARITY = 70  # face comparison score (0-100) a liveness check must reach (FaceID's)

# Rules for bank cards.
BIND_REQUEST_MINUTES = 15  # a binding must be confirmed with the bank's code within this time
BIND_CODE_MAX_TRIES = 5  # wrong bank codes before the binding fails
# Each binding started costs a bank call and texts whatever reserved phone was typed (card
# testing, SMS bombing): starts in 24 h, counted from the bind requests before the bank is asked.
BIND_STARTS_PER_USER_DAY = 5  # per borrower
BIND_STARTS_PER_IP_DAY = 20  # per client IP
BIND_STARTS_PER_CARD_DAY = 3  # per card number (its fingerprint), on any account
BIND_STARTS_PER_RESERVED_PHONE_DAY = 3  # per reserved phone (its fingerprint), on any account
RISK_FOUR_ELEMENT_FAILURES_DAY = 3  # bank four-element refusals for one borrower in 24 h that raise an alert
CARD_WAIT_AFTER_PHONE_CHANGE_HOURS = 24  # binds and unbinds go to review this long after a phone change
# A bind or unbind held for review may instead be cleared by the borrower's own passing face
# check (consent first); a face check that does not pass leaves it with the officers.
STEP_UP_FACE_CHECK = True
RISK_UNBINDS_PER_USER_DAY = 2  # unbinds per borrower in 24 h before review
RISK_UNBINDS_PER_IP_HOUR = 5  # unbinds from one IP in an hour before review
RISK_UNBINDS_PLATFORM_HOUR = 200  # unbinds across the platform in an hour before review
RISK_CARD_ACCOUNTS = 1  # accounts a card fingerprint was tried on before it is an anomaly
RISK_OUTSTANDING_BALANCE = 50_000  # yuan outstanding above which an unbind goes to review

# Rules for review cases and risk alerts.
REVIEW_HIGH_RISK_SCORE = 70  # at or over it, a case needs two approvals from two officers
REVIEW_SLA_WORKING_HOURS = 4
REVIEW_WORKDAY = (9, 18)  # working hours, Monday to Friday, TIME_ZONE
REVIEW_EXPIRE_DAYS = 14  # an open case older than this expires (what reject does happens)
RISK_SCAN_MINUTES = 5  # the scheduled scan looks at the events of this many minutes
RISK_PHONE_CHANGES_30D = 2  # more phone changes than this in 30 days is an anomaly
RISK_PHONE_CHANGE_ACCOUNTS_PER_IP = 3  # phone change requests for more accounts than this from one IP in 24 h
RISK_CODE_FAILURES_PER_HOUR = 10  # failed code checks per account, or per IP, in an hour
RISK_IDENTITY_REUSE_ATTEMPTS = 0  # any try of another account's ID number is an anomaly
RISK_FREEZE_ON_HIGH_ALERT = False  # a high-severity alert freezes the borrower's account

# The sealed audit chain (audit/chain.py).
AUDIT_SEAL_SECONDS = 60  # how often beat seals new events into a block
AUDIT_SEAL_DELAY_SECONDS = 60  # events younger than this wait for the next run (open transactions)
AUDIT_SEAL_BLOCK_EVENTS = 10_000  # events per block at most
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default=DEV_AUDIT_SIGNING_KEY if DEBUG else "")
if not DEBUG and AUDIT_SIGNING_KEY == DEV_AUDIT_SIGNING_KEY:
    raise ImproperlyConfigured("AUDIT_SIGNING_KEY is the development key; set a real one.")
AUDIT_CHECKPOINT_DIR = env.path("AUDIT_CHECKPOINT_DIR", default=BASE_DIR / "var" / "audit-checkpoints")
AUDIT_EXPORT_DIR = env.path("AUDIT_EXPORT_DIR", default=BASE_DIR / "var" / "audit-exports")
STORAGES["audit_exports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": AUDIT_EXPORT_DIR},
}
AUDIT_EXPORT_INLINE_ROWS = 50_000
# Audit events older than this may be archived (exported, then removed) by archive_audit_events.
# Ten years: the anti-money-laundering law in force from 2025 keeps identity and transaction
# records at least that long.
AUDIT_RETENTION_DAYS = 3653  # larger exports run as a background job with progress
AUDIT_CHECKPOINT_AT = (0, 5)  # hour and minute of the daily signed checkpoint

# Rules for auto-debit (collection runs in TIME_ZONE).
AUTODEBIT_AT = (8, 0)  # hour and minute of the daily collection run
AUTODEBIT_RETRY_DAYS = (1, 2, 3)  # after a soft failure, retry this many days later; one entry per retry
AUTODEBIT_IN_FLIGHT_MINUTES = 15  # a debit still pending after this long is settled by asking the bank
# The collection window closes at this hour and minute each day. Until then a debit the bank
# says it never received (its worker died before sending it) is sent again under the same key;
# from then on the next run fails it ("no answer": retried on AUTODEBIT_RETRY_DAYS, the borrower
# told). An installment whose debit is still unknown stays due, never overdue, while it is open.
# An installment not collected by the close of its due day becomes overdue then (beat), not
# when a debit on its due day fails.
AUTODEBIT_WINDOW_CLOSES_AT = (18, 0)
# From this long after AUTODEBIT_AT until the window closes, beat runs a follow-up collection
# this often: loans the morning run missed (a worker died before opening their attempts) are
# collected ("picked up late"), debits left pending by a dead worker are asked about and resent.
AUTODEBIT_FOLLOW_UP_MINUTES = 10
AUTODEBIT_REMINDER_DAYS = 3  # remind a borrower without a usable repayment card this long before a due date
AUTODEBIT_REMINDER_AT = (9, 0)  # hour and minute of the daily reminder run
AUTODEBIT_LOANS_PER_TASK = 500  # loans per collection task (one bank exchange each); the run fans out
# Product charges (lending/amounts.py), by Loan.Product value; a product not named has none.
# Late charge: a daily rate on an overdue installment's unpaid principal, e.g. {"car": "0.0005"}.
LOAN_LATE_CHARGE_DAILY_RATES: dict[str, str] = {}
# Early-repayment fee: a rate on the principal paid off before it was due, e.g. {"car": "0.01"}.
LOAN_EARLY_REPAYMENT_FEE_RATES: dict[str, str] = {}

# Reconciliation with the bank's statement files (cards/services/reconciliation.py).
RECONCILIATION_AT = (6, 30)  # hour and minute (TIME_ZONE) beat reconciles the previous settlement date
RECONCILIATION_CHUNK = 5000  # statement lines matched per query; memory stays flat whatever the file's size
# A debit sent this close to midnight may be processed at the bank the next date: one missing
# from its date's file is asked about by order number before it counts as a difference.
RECONCILIATION_BOUNDARY_SECONDS = 120

# Help and complaints (support/): deadlines in working hours (REVIEW_WORKDAY), complaints faster.
SUPPORT_FIRST_ANSWER_HOURS = 4
SUPPORT_RESOLVE_HOURS = 24
SUPPORT_COMPLAINT_FIRST_ANSWER_HOURS = 2
SUPPORT_COMPLAINT_RESOLVE_HOURS = 16
SUPPORT_REQUESTS_PER_DAY = 5  # help requests one borrower (or one number, signed out) may open in 24 h
SUPPORT_REQUESTS_PER_IP_HOUR = 10  # help requests from one client IP in an hour
SUPPORT_MESSAGES_PER_HOUR = 20  # borrower replies on one account in an hour

# Borrower rights (privacy/): the data copy and account closure.
PRIVACY_COPY_DIR = env.path("PRIVACY_COPY_DIR", default=BASE_DIR / "var" / "data-copies")
STORAGES["data_copies"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVACY_COPY_DIR},
}
PRIVACY_COPY_KEEP_HOURS = 72  # a finished copy may be downloaded (once) this long, then it is deleted
PRIVACY_COPIES_PER_DAY = 2  # copies one borrower may ask for in 24 h
# A closure takes effect this long after it is asked; signing in cancels it.
CLOSURE_COOLING_OFF_DAYS = env.int("CLOSURE_COOLING_OFF_DAYS", default=7)
# Records the law keeps after closure (AML identification, lending records), restricted.
CLOSURE_LEGAL_RETENTION_DAYS = 3653

# What beat runs. Long waits are rows in the database that these pick up, never countdowns.
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {"task": "lending.tasks.relay_outbox", "schedule": OUTBOX_RELAY_SECONDS},
    "review-escalate": {"task": "audit.tasks.escalate_overdue_cases", "schedule": 5 * 60},
    "review-expire": {"task": "audit.tasks.expire_stale_cases", "schedule": 60 * 60},
    "risk-scan": {"task": "audit.tasks.scan_risk", "schedule": RISK_SCAN_MINUTES * 60},
    "audit-seal": {"task": "audit.tasks.seal_audit_events", "schedule": AUDIT_SEAL_SECONDS},
    "audit-checkpoint": {
        "task": "audit.tasks.write_audit_checkpoint",
        "schedule": crontab(hour=AUDIT_CHECKPOINT_AT[0], minute=AUDIT_CHECKPOINT_AT[1]),
    },
    "autodebit": {
        "task": "lending.tasks.collect_due_installments",
        "schedule": crontab(hour=AUTODEBIT_AT[0], minute=AUTODEBIT_AT[1]),
    },
    "autodebit-follow-up": {  # does nothing outside its hours (lending.tasks.collect_stragglers)
        "task": "lending.tasks.collect_stragglers",
        "schedule": AUTODEBIT_FOLLOW_UP_MINUTES * 60,
    },
    "autodebit-overdue": {
        "task": "lending.tasks.mark_overdue_installments",
        "schedule": crontab(hour=AUTODEBIT_WINDOW_CLOSES_AT[0], minute=AUTODEBIT_WINDOW_CLOSES_AT[1]),
    },
    "bank-notices-waiting": {"task": "cards.tasks.apply_waiting_bank_notices", "schedule": 5 * 60},
    "account-phone-recheck": {
        "task": "accounts.tasks.recheck_account_phones",
        "schedule": ACCOUNT_PHONE_RECHECK_MINUTES * 60,
    },
    "api-purge": {"task": "api.tasks.purge_api_records", "schedule": 60 * 60},
    "bank-reconciliation": {
        "task": "cards.tasks.reconcile_bank_statement",
        "schedule": crontab(hour=RECONCILIATION_AT[0], minute=RECONCILIATION_AT[1]),
    },
    "support-escalate": {"task": "support.tasks.escalate_overdue_support_cases", "schedule": 5 * 60},
    "privacy-closures": {"task": "privacy.tasks.complete_due_closures", "schedule": 60 * 60},
    "privacy-copies-expire": {"task": "privacy.tasks.expire_data_copies", "schedule": 60 * 60},
    "autodebit-reminders": {
        "task": "lending.tasks.remind_missing_repayment_cards",
        "schedule": crontab(hour=AUTODEBIT_REMINDER_AT[0], minute=AUTODEBIT_REMINDER_AT[1]),
    },
}

# Security
# Content-Security-Policy on every response (django-csp): only this site's own scripts, styles,
# images and forms; no framing. The portal has no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
LANGUAGE_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain http
    if env.bool("DJANGO_SECURE_PROXY_SSL", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "audit.context.RequestContextLogFilter"},
        "redact_pii": {"()": "lending.pii.RedactPIILogFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_context", "redact_pii"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own handlers would bypass the filters above; route its loggers through ours.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # A line per request to the bank would drown the platform's own; failures log as warnings.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The FaceID SDK logs whole requests (names, ID numbers) at DEBUG: never below WARNING.
        "tencentcloud_sdk_common": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
