"""The portal's only settings module: every value comes from the environment (docs/configuration.md).

Two environments exist. ``development`` (the default, used by ``make run`` and the tests) has safe
defaults so that a fresh clone runs with no configuration. ``production`` has no defaults for
secrets and refuses to start when one is missing, when DEBUG is on, or when the demo e-ID simulator
is enabled: a misconfigured production server must fail at start-up, never serve.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from portal.common.logging import logging_config
from portal.config.env import env_bool, env_choice, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = PACKAGE_DIR.parent.parent

ENVIRONMENT = env_choice("PORTAL_ENVIRONMENT", "development", ("development", "production"))
PRODUCTION = ENVIRONMENT == "production"

VAR_DIR = Path(env_str("PORTAL_VAR_DIR") or PROJECT_DIR / "var")

DEBUG = env_bool("DEBUG", default=False)

# Refused in production (it starts with django-insecure).
_DEV_SECRET_KEY = "django-insecure-development-only-key-never-used-in-production-0123456789"  # noqa: S105
# Django's own rule for a strong key (security.W009).
_MIN_SECRET_KEY_LENGTH = 50
_MIN_SECRET_KEY_UNIQUE = 5
SECRET_KEY = env_str("SECRET_KEY") or ("" if PRODUCTION else _DEV_SECRET_KEY)

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
#: The portal's public address, for links in e-mail and letters (no trailing slash).
BASE_URL = (env_str("PORTAL_BASE_URL") or ("" if PRODUCTION else "http://127.0.0.1:8000")).rstrip(
    "/"
)

# --- e-ID --------------------------------------------------------------------------------------
#: Issuers whose e-ID may be used (R12), in any order: bankid, freja, oidc (Sweden Connect over
#: OpenID Connect), saml (Sweden Connect over SAML) and eidas (Sweden Connect's eIDAS connector, for
#: foreign e-ID). Anything else is refused. In development every one is on, each against its local
#: counterpart; in production only BankID unless the agency lists more.
EID_ALLOWED_ISSUERS = env_list(
    "EID_ALLOWED_ISSUERS",
    ["bankid"] if PRODUCTION else ["bankid", "freja", "oidc", "saml", "eidas"],
)
_LOA_CHOICES = ("loa2", "loa3", "loa4")
#: Lowest assurance level accepted to log in (loa2, loa3 or loa4, the Swedish trust framework's).
EID_MIN_ASSURANCE = env_choice("EID_MIN_ASSURANCE", "loa3", _LOA_CHOICES)
#: Lowest assurance level accepted to sign (an enrolment, a change of signatory), never below the
#: login's.
EID_MIN_ASSURANCE_SIGN = max(
    env_choice("EID_MIN_ASSURANCE_SIGN", "loa3", _LOA_CHOICES), EID_MIN_ASSURANCE
)
#: Login rate limits (429 beyond them), per window of PORTAL_LOGIN_RATE_WINDOW_MINUTES: logins
#: started from one IP address (generous: a whole workplace may share one address) and completed
#: identifications of one person.
LOGIN_RATE_PER_IP = env_int("PORTAL_LOGIN_RATE_PER_IP", 300, minimum=1)
LOGIN_RATE_PER_PERSON = env_int("PORTAL_LOGIN_RATE_PER_PERSON", 10, minimum=1)
LOGIN_RATE_WINDOW_SECONDS = env_int("PORTAL_LOGIN_RATE_WINDOW_MINUTES", 10, minimum=1) * 60
#: Settings each allowed issuer needs in production: (setting, value) per issuer code.
_EID_REQUIRED: dict[str, list[tuple[str, str]]] = {}
#: The local BankID simulator and its test app: for development and demos only.
EID_SIMULATOR = env_bool("PORTAL_EID_SIMULATOR", default=not PRODUCTION)
BANKID_API_URL = env_str(
    "BANKID_API_URL",
    "https://appapi2.bankid.com/rp/v6.0" if PRODUCTION else "https://127.0.0.1:8443/rp/v6.0",
)
# In development the simulator's test PKI (generated at first start, never committed) is used.
_SIMULATOR_PKI = VAR_DIR / "bankid"
BANKID_CLIENT_CERT = env_str(
    "BANKID_CLIENT_CERT", "" if PRODUCTION else str(_SIMULATOR_PKI / "client.pem")
)
BANKID_CLIENT_KEY = env_str(
    "BANKID_CLIENT_KEY", "" if PRODUCTION else str(_SIMULATOR_PKI / "client.key")
)
BANKID_CA_CERT = env_str("BANKID_CA_CERT", "" if PRODUCTION else str(_SIMULATOR_PKI / "ca.pem"))
BANKID_TIMEOUT_SECONDS = env_int("BANKID_TIMEOUT_SECONDS", 10, minimum=1)
#: requirement.certificatePolicies sent with every order; empty means BankID's own default.
BANKID_CERTIFICATE_POLICIES = env_list("BANKID_CERTIFICATE_POLICIES")
#: The simulator's test app, where a demo person approves an order (development only).
BANKID_SIMULATOR_APP_URL = env_str("BANKID_SIMULATOR_APP_URL", "http://127.0.0.1:8444").rstrip("/")
#: Where "BankID on this device" leads: the BankID app itself, or in development the test app.
BANKID_AUTOSTART_URL = (
    BANKID_SIMULATOR_APP_URL + "/?autostarttoken={token}"
    if EID_SIMULATOR
    else "bankid:///?autostarttoken={token}&redirect=null"
)
_EID_REQUIRED["bankid"] = [
    ("BANKID_CLIENT_CERT", BANKID_CLIENT_CERT),
    ("BANKID_CLIENT_KEY", BANKID_CLIENT_KEY),
    ("BANKID_CA_CERT", BANKID_CA_CERT),
]

# --- Freja eID (relying-party REST API over mutual TLS) ------------------------------------------
#: Freja eID's relying-party API. Freja's test environment: https://services.test.frejaeid.com.
FREJA_API_URL = env_str(
    "FREJA_API_URL",
    "https://services.prod.frejaeid.com" if PRODUCTION else "https://127.0.0.1:8445",
).rstrip("/")
# In development the Freja simulator's test PKI (generated at first start, never committed).
_FREJA_SIMULATOR_PKI = VAR_DIR / "freja"
FREJA_CLIENT_CERT = env_str(
    "FREJA_CLIENT_CERT", "" if PRODUCTION else str(_FREJA_SIMULATOR_PKI / "client.pem")
)
FREJA_CLIENT_KEY = env_str(
    "FREJA_CLIENT_KEY", "" if PRODUCTION else str(_FREJA_SIMULATOR_PKI / "client.key")
)
FREJA_CA_CERT = env_str("FREJA_CA_CERT", "" if PRODUCTION else str(_FREJA_SIMULATOR_PKI / "ca.pem"))
#: Freja's certificate(s) for the signed results (JWS), in one PEM file.
FREJA_SIGNING_CERT = env_str(
    "FREJA_SIGNING_CERT", "" if PRODUCTION else str(_FREJA_SIMULATOR_PKI / "signing.pem")
)
FREJA_TIMEOUT_SECONDS = env_int("FREJA_TIMEOUT_SECONDS", 10, minimum=1)
#: The simulator's test app, where "Freja eID on this device" leads (development only).
FREJA_SIMULATOR_APP_URL = env_str("FREJA_SIMULATOR_APP_URL", "http://127.0.0.1:8446").rstrip("/")
_EID_REQUIRED["freja"] = [
    ("FREJA_CLIENT_CERT", FREJA_CLIENT_CERT),
    ("FREJA_CLIENT_KEY", FREJA_CLIENT_KEY),
    ("FREJA_CA_CERT", FREJA_CA_CERT),
    ("FREJA_SIGNING_CERT", FREJA_SIGNING_CERT),
]

# --- Sweden Connect over OpenID Connect ----------------------------------------------------------
#: The OpenID Provider's issuer identifier, exactly as in its discovery document (read from
#: <issuer>/.well-known/openid-configuration). Development: the local OpenID Provider.
OIDC_ISSUER = env_str("OIDC_ISSUER", "" if PRODUCTION else "http://127.0.0.1:8447")
#: The portal's client_id, as registered with the provider.
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "" if PRODUCTION else "portal-development")
#: The portal's private key (PEM) for private_key_jwt; its public half is served at
#: /oidc/jwks.json. Development: generated under var/oidc at first use, never committed.
OIDC_CLIENT_KEY = env_str(
    "OIDC_CLIENT_KEY", "" if PRODUCTION else str(VAR_DIR / "oidc" / "client.key")
)
OIDC_TIMEOUT_SECONDS = env_int("OIDC_TIMEOUT_SECONDS", 10, minimum=1)
#: CA certificates (PEM) the provider's TLS certificate is checked against; empty: the usual ones.
OIDC_CA_CERT = env_str("OIDC_CA_CERT")
#: Scopes asked for besides openid (only those the provider lists in scopes_supported are sent).
OIDC_SCOPES = env_list(
    "OIDC_SCOPES",
    [
        "https://id.oidc.se/scope/naturalPersonNumber",
        "https://id.oidc.se/scope/naturalPersonInfo",
        "https://id.swedenconnect.se/scope/eidasNaturalPersonIdentity",
        "https://id.swedenconnect.se/scope/eidasSwedishIdentity",
    ],
)
#: Also send the authentication request as a signed Request Object (Sweden Connect recommends it).
OIDC_SIGNED_REQUEST = env_bool("OIDC_SIGNED_REQUEST", default=True)
#: Identity binding processes under which a foreign e-ID's mappedPersonalIdentityNumber (or
#: mappedCoordinationNumber) is taken as the person's personal number; others are ignored.
OIDC_EIDAS_ACCEPTED_PNR_BINDINGS = env_list(
    "OIDC_EIDAS_ACCEPTED_PNR_BINDINGS",
    [
        "http://id.swedenconnect.se/id-binding/process/swedish-eid",
        "http://id.swedenconnect.se/id-binding/process/populationregister",
    ],
)
_EID_REQUIRED["oidc"] = [
    ("OIDC_ISSUER", OIDC_ISSUER),
    ("OIDC_CLIENT_ID", OIDC_CLIENT_ID),
    ("OIDC_CLIENT_KEY", OIDC_CLIENT_KEY),
]

# --- Sweden Connect over SAML, and its eIDAS connector ------------------------------------------
# One SP entity for both: "saml" (Swedish e-ID) and "eidas" (foreign e-ID through the connector).
# In development everything points at the local test IdP (`portal saml-idp`, port 8448) and the
# keys are throw-away ones generated under var/saml at first use.
_SAML_DIR = VAR_DIR / "saml"
#: The SP's entityID as registered with the federation.
SAML_SP_ENTITY_ID = env_str("SAML_SP_ENTITY_ID") or (
    BASE_URL + "/saml/metadata.xml" if BASE_URL else ""
)
#: The SP's signing key pair (signs authentication requests; published with use="signing").
SAML_SP_KEY = env_str("SAML_SP_KEY", "" if PRODUCTION else str(_SAML_DIR / "sp-signing.key"))
SAML_SP_CERT = env_str("SAML_SP_CERT", "" if PRODUCTION else str(_SAML_DIR / "sp-signing.pem"))
#: A separate encryption key pair (use="encryption"), so each can be rolled over on its own.
SAML_SP_ENCRYPTION_KEY = env_str(
    "SAML_SP_ENCRYPTION_KEY", "" if PRODUCTION else str(_SAML_DIR / "sp-encryption.key")
)
SAML_SP_ENCRYPTION_CERT = env_str(
    "SAML_SP_ENCRYPTION_CERT", "" if PRODUCTION else str(_SAML_DIR / "sp-encryption.pem")
)
#: Keys of earlier encryption certificates, still tried for decryption during a key rollover.
SAML_SP_PREVIOUS_ENCRYPTION_KEYS = env_list("SAML_SP_PREVIOUS_ENCRYPTION_KEYS")
SAML_SP_ENTITY_CATEGORIES = env_list(
    "SAML_SP_ENTITY_CATEGORIES",
    [
        "http://id.elegnamnden.se/ec/1.0/loa3-pnr",
        "http://id.elegnamnden.se/ec/1.0/eidas-naturalperson",
        "http://id.elegnamnden.se/st/1.0/public-sector-sp",
        "http://id.swedenconnect.se/contract/sc/sweden-connect",
        "http://id.swedenconnect.se/general-ec/1.0/accepts-coordination-number",
    ],
)
SAML_IDP_ENTITY_ID = env_str(
    "SAML_IDP_ENTITY_ID", "" if PRODUCTION else "http://127.0.0.1:8448/idp/se"
)
SAML_EIDAS_IDP_ENTITY_ID = env_str(
    "SAML_EIDAS_IDP_ENTITY_ID", "" if PRODUCTION else "http://127.0.0.1:8448/idp/eidas"
)
#: The federation's signed metadata: a URL or a file.
SAML_IDP_METADATA = env_str(
    "SAML_IDP_METADATA",
    "https://md.swedenconnect.se/entities" if PRODUCTION else "http://127.0.0.1:8448/metadata",
)
#: The certificate the metadata's signature is verified with (the test IdP's in development).
SAML_METADATA_SIGNING_CERT = env_str(
    "SAML_METADATA_SIGNING_CERT",
    "" if PRODUCTION else str(_SAML_DIR / "idp" / "metadata-signing.pem"),
)
SAML_XMLSEC_BINARY = env_str("SAML_XMLSEC_BINARY", "/usr/bin/xmlsec1")
SAML_REQUEST_BINDING = env_choice("SAML_REQUEST_BINDING", "post", ("post", "redirect"))
#: Identity binding processes under which the eIDAS connector's mappedPersonalIdentityNumber is
#: taken as the person's Swedish personal identity number; empty: never.
SAML_EIDAS_ACCEPTED_PNR_BINDINGS = env_list(
    "SAML_EIDAS_ACCEPTED_PNR_BINDINGS",
    [
        "http://id.swedenconnect.se/id-binding/process/swedish-eid",
        "http://id.swedenconnect.se/id-binding/process/populationregister",
    ],
)
_SAML_REQUIRED = [
    ("SAML_SP_ENTITY_ID", SAML_SP_ENTITY_ID),
    ("SAML_SP_KEY", SAML_SP_KEY),
    ("SAML_SP_CERT", SAML_SP_CERT),
    ("SAML_SP_ENCRYPTION_KEY", SAML_SP_ENCRYPTION_KEY),
    ("SAML_SP_ENCRYPTION_CERT", SAML_SP_ENCRYPTION_CERT),
    ("SAML_IDP_METADATA", SAML_IDP_METADATA),
    ("SAML_METADATA_SIGNING_CERT", SAML_METADATA_SIGNING_CERT),
]
_EID_REQUIRED["saml"] = [*_SAML_REQUIRED, ("SAML_IDP_ENTITY_ID", SAML_IDP_ENTITY_ID)]
_EID_REQUIRED["eidas"] = [*_SAML_REQUIRED, ("SAML_EIDAS_IDP_ENTITY_ID", SAML_EIDAS_IDP_ENTITY_ID)]


def _is_ed25519_key(text: str) -> bool:
    import base64  # noqa: PLC0415
    import binascii  # noqa: PLC0415

    try:
        return len(base64.b64decode(text, validate=True)) == 32  # noqa: PLR2004
    except (binascii.Error, ValueError):
        return False


def _refuse_insecure_production() -> None:
    """Production must not start with a missing secret, DEBUG, or the demo e-ID simulator."""
    problems: list[str] = []
    if not SECRET_KEY:
        problems.append("SECRET_KEY is not set")
    elif (
        SECRET_KEY.startswith("django-insecure")
        or len(set(SECRET_KEY)) < _MIN_SECRET_KEY_UNIQUE
        or len(SECRET_KEY) < _MIN_SECRET_KEY_LENGTH
    ):
        problems.append("SECRET_KEY is too weak (at least 50 characters, not a development key)")
    if DEBUG:
        problems.append("DEBUG is on")
    if EID_SIMULATOR:
        problems.append("PORTAL_EID_SIMULATOR is on (the demo e-ID simulator)")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is not set")
    if not BASE_URL.startswith("https://"):
        problems.append("PORTAL_BASE_URL is not set to the portal's https:// address")
    if COMPANY_REGISTER == "file":
        problems.append("COMPANY_REGISTER is file (the fictional demo register)")
    if COMPANY_REGISTER == "http" and not COMPANY_REGISTER_URL:
        problems.append("COMPANY_REGISTER_URL is not set (the company register is http)")
    problems.extend(
        f"{name} is not set ({issuer} is an allowed issuer)"
        for issuer in EID_ALLOWED_ISSUERS
        for name, value in _EID_REQUIRED.get(issuer, [])
        if not value
    )
    if not AUDIT_SIGNING_KEY:
        problems.append("PORTAL_AUDIT_SIGNING_KEY is not set (it signs the audit log's tree heads)")
    elif not _is_ed25519_key(AUDIT_SIGNING_KEY):
        problems.append("PORTAL_AUDIT_SIGNING_KEY is not a base64 Ed25519 private key (32 bytes)")
    if problems:
        msg = "Refusing to start in production: " + "; ".join(problems) + "."
        raise ImproperlyConfigured(msg)


# --- Applications ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "portal.common",
    "portal.web",
    "portal.identity",
    "portal.employers",
    "portal.terms",
    "portal.access",
    "portal.audit",
    "portal.eservices",
    "portal.notices",
    "portal.privacy",
    "portal.announcements",
    "portal.messaging",
    "portal.backoffice",
    "portal.api",
]

MIDDLEWARE = [
    "portal.common.metrics.RequestMetricsMiddleware",
    "portal.common.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.common.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.common.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.common.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.common.middleware.NoStoreForPersonMiddleware",
    "portal.notices.middleware.EServiceClosedMiddleware",
    "portal.common.middleware.ErrorPageMiddleware",
]

ROOT_URLCONF = "portal.config.urls"
WSGI_APPLICATION = "portal.config.wsgi.application"
AUTH_USER_MODEL = "identity.Person"
# Nobody has a password: people log in with e-ID only (R2). Django's password login stays unused.
# PersonBackend finds a session's person with a written-out statement; Django's ModelBackend stays
# for sessions begun before it named PersonBackend, until they end.
AUTHENTICATION_BACKENDS = [
    "portal.identity.backends.PersonBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "identity:login"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.web.context_processors.portal",
                "portal.terms.context_processors.terms_notices",
                "portal.employers.context_processors.termination_notices",
                "portal.employers.context_processors.acting_for",
                "portal.backoffice.context_processors.staff_member",
                "portal.notices.context_processors.outage_banner",
                "portal.web.context_processors.csrf",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
_prepare_threshold = env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
except (ValueError, KeyError) as error:
    msg = f"DATABASE_URL is not a database address this portal understands: {error}"
    raise ImproperlyConfigured(msg) from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # One file shared by the web process and the task worker: WAL lets them read while the other
    # writes, IMMEDIATE transactions take the write lock up front so nobody deadlocks on upgrade.
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif _database["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that makes no round trip while the connection is
    # quiet (portal/common/postgresql/base.py).
    _database["ENGINE"] = "portal.common.postgresql"
    _database.setdefault("OPTIONS", {})
    _database["OPTIONS"].setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    # Parameters sent apart from the statement (the extended protocol) rather than quoted into
    # its text, and a statement the connection has run DATABASE_PREPARE_THRESHOLD times prepared
    # on the server, so that PostgreSQL parses and plans it once per connection instead of on
    # every request. 0 turns both off (for a pooler that cannot keep prepared statements).
    if _prepare_threshold:
        _database["OPTIONS"].setdefault("server_side_binding", True)
        _database["OPTIONS"].setdefault("prepare_threshold", _prepare_threshold)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "portal.access.sessions"
# Messages ride in the session, so that no extra cookie is set.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
#: Idle timeout (the session ends after this long without a request) and absolute lifetime.
SESSION_IDLE_SECONDS = env_int("PORTAL_SESSION_IDLE_MINUTES", 20, minimum=1) * 60
SESSION_MAX_SECONDS = env_int("PORTAL_SESSION_MAX_HOURS", 8, minimum=1) * 3600
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# The __Host- prefix binds a cookie to this exact host and path /, so that no sibling domain can set
# or shadow it. Browsers accept such cookies only with Secure, which they allow on http://localhost
# and 127.0.0.1 too, so the same names work in development.
SESSION_COOKIE_NAME = "__Host-portal_session"
CSRF_COOKIE_NAME = "__Host-portal_csrf"
LANGUAGE_COOKIE_NAME = "__Host-portal_language"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
CSRF_FAILURE_VIEW = "portal.web.errors.csrf_failure"

# --- Security headers --------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_HSTS_SECONDS = env_int("PORTAL_HSTS_SECONDS", 63_072_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("PORTAL_HSTS_PRELOAD", default=True)
    SECURE_SSL_REDIRECT = env_bool("PORTAL_SSL_REDIRECT", default=True)
    # Load balancers probe health over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if env_bool("PORTAL_TRUST_X_FORWARDED_PROTO", default=False):
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No inline script or style anywhere: every script and stylesheet is a file served from here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Stockholm"

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("PORTAL_STATIC_ROOT") or VAR_DIR / "static")
NODE_MODULES_DIR = Path(env_str("PORTAL_NODE_MODULES") or PROJECT_DIR / "node_modules")
# FKUI comes from npm (package.json); it is served from here, never from a CDN.
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("fkui/design", NODE_MODULES_DIR / "@fkui" / "design" / "lib"),
    ("fkui/theme-default", NODE_MODULES_DIR / "@fkui" / "theme-default" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# In development the files are served straight from their sources, no collectstatic needed
# (WhiteNoise still wants its root to exist).
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = DEBUG
# Source maps (5 MB of the API docs' scripts) are for developers' tools: served as they are rather
# than compressed at every deployment, which took half of collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# --- Mail --------------------------------------------------------------------------------------
MAIL_BACKEND = env_choice("PORTAL_MAIL_BACKEND", "smtp" if PRODUCTION else "file", ("smtp", "file"))
EMAIL_BACKEND = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
}[MAIL_BACKEND]
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "E-tjänster för arbetsgivare <noreply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
#: Attempts to send one message (the first included) before it is marked failed.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)

# --- Background tasks --------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# --- Employers ---------------------------------------------------------------------------------
#: How long an enrolment waits for the signatures of joint signatories before it lapses.
ENROLMENT_SIGNATURE_DAYS = env_int("PORTAL_ENROLMENT_SIGNATURE_DAYS", 30, minimum=1)
#: The notice period when the agency terminates an employer's connection (R17).
TERMINATION_NOTICE_MONTHS = env_int("PORTAL_TERMINATION_NOTICE_MONTHS", 3, minimum=0)
#: How many days ahead a new terms version must be published (R16).
TERMS_NOTICE_DAYS = env_int("PORTAL_TERMS_NOTICE_DAYS", 30, minimum=0)
#: Working days (Monday to Friday) within which a paper enrolment or a written de-registration
#: request is to be handled, counted from the day it was received (the back-office's work queues).
CASE_DUE_DAYS = env_int("PORTAL_CASE_DUE_DAYS", 5, minimum=1)
#: The company register: the fictional file shipped with the demo, or the business register's API.
COMPANY_REGISTER = env_choice(
    "COMPANY_REGISTER", "http" if PRODUCTION else "file", ("file", "http")
)
COMPANY_REGISTER_FILE = env_str("COMPANY_REGISTER_FILE") or str(
    PACKAGE_DIR / "employers" / "register" / "fictional_register.json"
)
COMPANY_REGISTER_URL = env_str("COMPANY_REGISTER_URL")
COMPANY_REGISTER_TOKEN = env_str("COMPANY_REGISTER_TOKEN")
COMPANY_REGISTER_TIMEOUT_SECONDS = env_int("COMPANY_REGISTER_TIMEOUT_SECONDS", 5, minimum=1)

# --- Access ------------------------------------------------------------------------------------
#: How often the access administrators review everyone's access (R8): days between reviews.
ACCESS_REVIEW_DAYS = env_int("PORTAL_ACCESS_REVIEW_DAYS", 180, minimum=1)
#: Days past a review's due date after which users without a confirmation are suspended; 0: never.
ACCESS_REVIEW_SUSPEND_AFTER_DAYS = env_int("PORTAL_ACCESS_REVIEW_SUSPEND_AFTER_DAYS", 0, minimum=0)

# --- E-services ------------------------------------------------------------------------------
#: Days after a sick-leave report is received during which it can be corrected or withdrawn.
SICK_REPORT_CORRECTION_DAYS = env_int("PORTAL_SICK_REPORT_CORRECTION_DAYS", 30, minimum=0)
#: Days an untouched draft is kept before it is purged.
DRAFT_DAYS = env_int("PORTAL_DRAFT_DAYS", 30, minimum=1)
#: Days after an answer to an inquiry is received during which it can be corrected.
INQUIRY_CORRECTION_DAYS = env_int("PORTAL_INQUIRY_CORRECTION_DAYS", 14, minimum=0)
#: Days before an inquiry's due date that its users are reminded of it, if still unanswered.
INQUIRY_REMIND_DAYS_BEFORE = env_int("PORTAL_INQUIRY_REMIND_DAYS_BEFORE", 3, minimum=1)
#: Days login records (and the e-ID orders behind them) are kept.
LOGIN_RETENTION_DAYS = env_int("PORTAL_LOGIN_RETENTION_DAYS", 396, minimum=1)
#: Days e-ID orders that led to no login or signature are kept.
EID_ORDER_RETENTION_DAYS = env_int("PORTAL_EID_ORDER_RETENTION_DAYS", 30, minimum=1)
#: Where uploaded attachments are stored: outside the web root, served only through the portal's
#: access check.
UPLOAD_DIR = Path(env_str("PORTAL_UPLOAD_DIR") or VAR_DIR / "uploads")
#: The largest attachment accepted, in bytes.
ATTACHMENT_MAX_BYTES = env_int("PORTAL_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
#: The workplace-aids grant's cap for computer-based aids, in kronor (other aids: 50 000 kr).
WORK_AIDS_COMPUTER_CAP = env_int("PORTAL_WORK_AIDS_COMPUTER_CAP", 100_000, minimum=50_000)
# Uploads are counted as they arrive and a file over the limit is skipped, never stored whole.
FILE_UPLOAD_HANDLERS = [
    "portal.eservices.attachments.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Availability (R15) -----------------------------------------------------------------------
#: Days before a planned outage from which every page shows a banner about it.
OUTAGE_BANNER_DAYS = env_int("PORTAL_OUTAGE_BANNER_DAYS", 3, minimum=0)

# --- Audit log ---------------------------------------------------------------------------------
#: The Ed25519 key that signs the audit log's tree heads: the 32-byte private key, base64. Without
#: it (development and tests only) a key is derived from SECRET_KEY.
AUDIT_SIGNING_KEY = env_str("PORTAL_AUDIT_SIGNING_KEY")
#: Public keys (raw 32 bytes, base64, comma-separated) of keys that signed earlier tree heads, so
#: that those heads still verify after the signing key is changed.
AUDIT_PREVIOUS_PUBLIC_KEYS = env_list("PORTAL_AUDIT_PREVIOUS_PUBLIC_KEYS")
#: How long events are kept; older ones are purged a month at a time (``portal audit purge``).
AUDIT_RETENTION_YEARS = env_int("PORTAL_AUDIT_RETENTION_YEARS", 5, minimum=1)

# --- Operations metrics (/metrics, docs/operations.md) -------------------------------------------
#: A bearer token that lets Prometheus read /metrics from any address; empty: no token.
METRICS_TOKEN = env_str("PORTAL_METRICS_TOKEN")
_MIN_METRICS_TOKEN_LENGTH = 32
if METRICS_TOKEN and len(METRICS_TOKEN) < _MIN_METRICS_TOKEN_LENGTH:
    msg = "PORTAL_METRICS_TOKEN must be at least 32 characters"
    raise ImproperlyConfigured(msg)


def _networks(name: str, values: list[str]) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(value, strict=False) for value in values)
    except ValueError as error:
        msg = f"{name} must be a comma-separated list of networks (10.0.0.0/8, ::1/128): {error}"
        raise ImproperlyConfigured(msg) from None


#: Networks from which /metrics may be read without the token (the direct peer's address; a
#: request that came through a proxy never qualifies). Empty: the token only.
METRICS_ALLOWED_NETWORKS = _networks(
    "PORTAL_METRICS_ALLOWED_NETWORKS",
    env_list("PORTAL_METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"]),
)
#: prometheus_client's directory for the request metrics of several web processes (it reads the
#: variable itself, at import); empty: one process, whose own metrics are served.
METRICS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if METRICS_MULTIPROC_DIR and not Path(METRICS_MULTIPROC_DIR).is_dir():
    msg = f"PROMETHEUS_MULTIPROC_DIR is not a directory: {METRICS_MULTIPROC_DIR}"
    raise ImproperlyConfigured(msg)

# --- The agency running the portal (shown on pages) ---------------------------------------------
AGENCY_NAME = env_str("PORTAL_AGENCY_NAME", "Demomyndigheten")
SUPPORT_PHONE = env_str("PORTAL_SUPPORT_PHONE", "0771-00 00 00")
SUPPORT_EMAIL = env_str("PORTAL_SUPPORT_EMAIL", "arbetsgivare@example.se")
SUPPORT_HOURS = env_str("PORTAL_SUPPORT_HOURS", "vardagar 8–16")

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOG_FORMAT = env_choice("PORTAL_LOG_FORMAT", "json", ("json", "console"))
LOGGING_CONFIG = None
logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)

# Last, once every setting is read.
if PRODUCTION:
    _refuse_insecure_production()
