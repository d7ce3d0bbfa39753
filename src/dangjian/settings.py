"""One settings file: every value comes from a DANGJIAN_* environment variable with a safe default."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import dj_database_url


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"DANGJIAN_{name}", default)


def envbool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value.strip() else default


def envlist(name: str, default: list[str]) -> list[str]:
    value = env(name)
    return [v.strip() for v in value.split(",") if v.strip()] if value else default


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("DATA_DIR", "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use DANGJIAN_SECRET_KEY, else a key generated once into the data dir (never a shared default)."""
    if env("SECRET_KEY"):
        return env("SECRET_KEY")
    path = DATA_DIR / "secret_key"
    try:
        # Created readable by the owner only, and exclusively: two processes starting at once share one key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG", False)
# Loopback only by default; Django's test environment adds "testserver" by itself.
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "dangjian.orgs.admin_site.DutyAdminConfig",  # django.contrib.admin, closed to the security auditor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "simple_history",
    "dangjian.web.axes_app.AxesConfig",  # django-axes, named in Chinese
    "dangjian.audit",
    "dangjian.orgs",
    "dangjian.records",
    "dangjian.spreadsheets",
    "dangjian.tasks",
    "dangjian.lists",
    "dangjian.indicators",
    "dangjian.reports",
    "dangjian.web",
    "dangjian.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files leave here: cacheable, none of the below
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",  # sets Content-Length after the ones below changed a page
    "django.middleware.csrf.CsrfViewMiddleware",
    "dangjian.web.middleware.RejectNulMiddleware",  # process_view, after CSRF has read the form
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dangjian.indicators.middleware.ViewerMiddleware",  # figures computed for request.user (保密规则)
    "dangjian.web.middleware.SessionRefreshMiddleware",
    "dangjian.web.middleware.ResponseHeadersMiddleware",
    "dangjian.web.middleware.DemoWarningMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dangjian.web.middleware.IssuedPasswordMiddleware",  # after auth and messages
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "dangjian.web.urls"
WSGI_APPLICATION = "dangjian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    # Each thread of a served worker keeps its connection for 10 minutes (a new one costs 10–30 ms on the next
    # request: the server process starts, its caches are cold), checked before each request's first query so a
    # restarted PostgreSQL costs one reconnect, not an error.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: a ledger's compiled query (a hundred conditional aggregates) costs enough to be JIT-compiled
        # at a province, and compiling it takes 1.0–1.7 s while running it takes 0.05 s. work_mem 64 MB (the
        # server's default is 4 MB): at a province (600,000 records of one ledger in the period) the bitmap of the
        # ledger's index entries would turn lossy, so the planner reads the whole table instead (1.35 GB for 5
        # million records), and each COUNT(DISTINCT …) would sort on disk: the seed report's nine largest ledger
        # queries took 16.5 s instead of 7.0 s. It is a ceiling per sort or bitmap, used only by queries that need
        # it (issue 14, docs/benchmarks.md). Options given in the URL come after these and win.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = " ".join(
            filter(None, ["-c jit=off -c work_mem=64MB", options.get("options", "")])
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "db.sqlite3"),
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; the busy timeout waits instead of failing.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts, sessions, lockout -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": envint("PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = envint("SESSION_MINUTES", 480) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Idle sessions expire after SESSION_COOKIE_AGE; SessionRefreshMiddleware keeps active ones alive by saving the
# session at most every few minutes. Saving on every request made page views fail while an import held the lock.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Failures lock a username out at one address only (the right password from elsewhere still works), and many
# failures from one address, whatever the usernames, lock that address out (web/login.py).
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = envint("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = envint("LOGIN_LOCKOUT_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "dangjian.web.login.LoginThrottle"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- language, time --------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LOCALE_PATHS = [BASE_DIR / "locale"]  # Chinese for third-party apps without it (django-axes)
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- files -----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise expects it even before collectstatic
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"  # never served directly: attachments go through an access-checked view
FILE_UPLOAD_PERMISSIONS = 0o600  # attachments are readable by the app's own account only (see datadir.py)
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# The cache holds only short-lived progress (imports); files under the data dir so every worker process of
# `dangjian serve --workers N` sees the same entries.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
}
WHITENOISE_USE_FINDERS = True
MAX_UPLOAD_MB = envint("MAX_UPLOAD_MB", 20)
MAX_IMPORT_MB = envint("MAX_IMPORT_MB", 20)  # Excel imports; the zip inside is checked for bombs too
MAX_IMPORT_ROWS = envint("MAX_IMPORT_ROWS", 200_000)  # data rows one Excel import reads at most
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ATTACHMENT_EXTENSIONS = [
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".pdf", ".doc", ".docx", ".xls", ".xlsx",
    ".ppt", ".pptx", ".wps", ".et", ".dps", ".ofd", ".txt", ".zip",
]  # fmt: skip

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"

# Content-Security-Policy from django-csp (Mozilla's, pinned) rather than our own middleware: it has per-view
# decorators (csp_exempt/csp_update), a report-only mode for trying a stricter policy, and the same settings
# shape as Django 6.0's built-in CSP, so moving to that later is a rename. No inline script or style anywhere:
# scripts and styles are static files (web/static), behaviour is bound by data attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

# --- email (提醒 digests, `dangjian remind`) ------------------------------------------------------------------
# Off unless DANGJIAN_EMAIL_HOST is set: the reminders are then in-app messages only. Plain SMTP settings, as
# Django names them; the password from the environment only, never from a file in the tree.
EMAIL_HOST = env("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "dangjian@localhost")

# The address people reach the server at (e.g. https://dj.example.gov.cn): a saved HTML report's evidence links point
# there, so the file opened from disk still leads to the records. Unset: the address the download request came to
# (`dangjian report --format html` then keeps links relative to the server).
SITE_URL = env("SITE_URL", "").strip().rstrip("/")
if SITE_URL and not re.fullmatch(r"https?://[^/\s?#]+", SITE_URL):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"DANGJIAN_SITE_URL 应为系统的访问地址，以 http:// 或 https:// 开头、不带路径，如 https://dj.example.gov.cn"
        f"（现为“{SITE_URL}”）"
    )
