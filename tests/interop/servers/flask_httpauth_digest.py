"""Flask app protected by Flask-HTTPAuth's HTTPDigestAuth, one instance per location.

Served by gunicorn (one worker: the server-side nonce sets live in its memory):

  gunicorn --chdir servers 'flask_httpauth_digest:create_app()'

with LAB_REALM and LAB_USERS (user, password, user, password, ... separated by newlines)
in the environment.

  /              unprotected text
  /session/      HTTPDigestAuth() as documented: nonce and opaque kept in Flask's session
                 cookie, which every 401 sets (a client must send it back)
  /server-nonce/ nonce and opaque kept in server-side sets (generate_nonce / verify_nonce /
                 generate_opaque / verify_opaque callbacks): no cookie needed
  /ha1/          use_ha1_pw=True (get_password returns HA1), server-side nonces
  /md5-sess/     algorithm="MD5-Sess", server-side nonces
  /no-qop/       qop=None: no qop parameter (RFC 2069), server-side nonces
  /qop-empty/    qop="": the challenge says qop="", server-side nonces
"""
import os
import secrets
import threading

from flask import Flask
from flask_httpauth import HTTPDigestAuth


def server_side_nonces(auth):
    """Keep the nonces and opaques an instance handed out in memory."""
    lock = threading.Lock()
    nonces, opaques = set(), set()

    @auth.generate_nonce
    def generate_nonce():
        n = secrets.token_hex(16)
        with lock:
            nonces.add(n)
        return n

    @auth.verify_nonce
    def verify_nonce(nonce):
        with lock:
            return nonce in nonces

    @auth.generate_opaque
    def generate_opaque():
        o = secrets.token_hex(16)
        with lock:
            opaques.add(o)
        return o

    @auth.verify_opaque
    def verify_opaque(opaque):
        with lock:
            return opaque in opaques


def create_app():
    realm = os.environ["LAB_REALM"]
    pairs = os.environ["LAB_USERS"].split("\n")
    users = {pairs[i]: pairs[i + 1] for i in range(0, len(pairs) - 1, 2)}

    app = Flask(__name__)
    app.secret_key = secrets.token_hex(32)

    @app.route("/")
    def root():
        return "flask-httpauth root (unprotected)\n"

    locations = {
        "session": dict(),
        "server-nonce": dict(),
        "ha1": dict(use_ha1_pw=True),
        "md5-sess": dict(algorithm="MD5-Sess"),
        "no-qop": dict(qop=None),
        "qop-empty": dict(qop=""),
    }
    for name, kwargs in locations.items():
        auth = HTTPDigestAuth(realm=realm, **kwargs)
        if name != "session":
            server_side_nonces(auth)
        if kwargs.get("use_ha1_pw"):
            ha1 = {u: auth.generate_ha1(u, p) for u, p in users.items()}
            auth.get_password(ha1.get)
        else:
            auth.get_password(users.get)

        def view(auth=auth, name=name):
            return f"flask-httpauth /{name}/ ok, user={auth.current_user()}\n"

        app.add_url_rule(f"/{name}/", name, auth.login_required(view))
    return app
