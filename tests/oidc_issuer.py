"""A minimal but real OpenID Connect issuer for tests: an HTTP server on 127.0.0.1 in a
thread, serving discovery, JWKS, authorize (straight back with a code: the person is
`issuer.person`), token (client secret, redirect_uri and PKCE checked; codes are single
use; an RS256 ID token signed with PyJWT) and userinfo. Tests turn its knobs to answer
the way a broken or hostile provider would."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from coordination import config, roles

SSO_BACKEND = "coordination.sso.SingleSignOnBackend"
ROLE_MAP = "tandem-marketing=Marketing,tandem-sales=Sales,tandem-admins=Admin"
CLIENT_ID = "tandem-test"
CLIENT_SECRET = "issuer-test-secret"
KID = "test-key-1"
# Issuers often live under a path (Keycloak realms): discovery is found below it.
PREFIX = "/realms/tandem"


def sso_env(issuer_url: str, **extra: str) -> dict[str, str]:
    return {
        "OIDC_ISSUER": issuer_url,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": "Brookfield ID",
        "OIDC_ROLE_MAP": ROLE_MAP,
        **extra,
    }


def configure(settings, env: dict[str, str]) -> None:
    """What coordination/settings.py does with these variables (a test in
    tests/coordination/test_oidc_signin.py runs the settings module to check it)."""
    for name, value in config.sso_config(env, roles=roles.ROLES).items():
        setattr(settings, name, value)
    backends = [b for b in settings.AUTHENTICATION_BACKENDS if b != SSO_BACKEND]
    settings.AUTHENTICATION_BACKENDS = [*backends[:2], SSO_BACKEND, *backends[2:]]


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_KEY = new_key()


class Issuer:
    def __init__(self):
        self.key = _KEY
        self.person: dict = {}  # the claims of whoever signs in at the provider next
        # Knobs: what the next ID token says and how it is signed.
        self.token_lifetime = 300
        self.issued_by: str | None = None  # another "iss" than the issuer's own
        self.signing_key = None  # another key than the published one (same kid)
        self.nonce: str | None = None  # another nonce than the one asked for
        self.userinfo_sub: str | None = None  # userinfo about another person
        self.offers_userinfo = True  # False: no userinfo endpoint, every claim in the ID token
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.requests: list[str] = []  # paths asked for, in order
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_port}{PREFIX}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def discovery(self) -> dict:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            **({"userinfo_endpoint": f"{self.url}/userinfo"} if self.offers_userinfo else {}),
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": KID, "alg": "RS256", "use": "sig"}]}

    def authorize(self, query: dict) -> str:
        """Where the provider sends the browser back: the redirect_uri with code and state."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"query": query, "person": dict(self.person)}
        answer = {"code": code, "state": query["state"]}
        return f"{query['redirect_uri']}?{urlencode(answer)}"

    def token(self, form: dict) -> tuple[int, dict]:
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return 400, {"error": "invalid_grant"}
        asked = grant["query"]
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        ).rstrip(b"=")
        if (
            form.get("client_id") != CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
            or form.get("redirect_uri") != asked["redirect_uri"]
            or challenge.decode() != asked.get("code_challenge")
        ):
            return 400, {"error": "invalid_grant"}
        person = grant["person"]
        now = int(time.time())
        claims = {
            **({} if self.offers_userinfo else person),
            "iss": self.issued_by or self.url,
            "sub": person["sub"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + self.token_lifetime,
            "nonce": self.nonce or asked.get("nonce"),
        }
        id_token = jwt.encode(
            claims, self.signing_key or self.key, algorithm="RS256", headers={"kid": KID}
        )
        access_token = secrets.token_urlsafe(16)
        self.access_tokens[access_token] = person
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }

    def userinfo(self, authorization: str) -> tuple[int, dict]:
        person = self.access_tokens.get(authorization.removeprefix("Bearer "))
        if person is None:
            return 401, {"error": "invalid_token"}
        return 200, {**person, "sub": self.userinfo_sub or person["sub"]}


def _handler(issuer: Issuer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            path = url.path.removeprefix(PREFIX)
            issuer.requests.append(path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            if path == "/.well-known/openid-configuration":
                self._json(200, issuer.discovery())
            elif path == "/jwks":
                self._json(200, issuer.jwks())
            elif path == "/userinfo":
                self._json(*issuer.userinfo(self.headers.get("Authorization", "")))
            elif path == "/authorize":
                self.send_response(302)
                self.send_header("Location", issuer.authorize(query))
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self):
            path = urlsplit(self.path).path.removeprefix(PREFIX)
            issuer.requests.append(path)
            length = int(self.headers.get("Content-Length", "0"))
            form = {
                key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()
            }
            if path == "/token":
                self._json(*issuer.token(form))
            else:
                self._json(404, {"error": "not_found"})

    return Handler
