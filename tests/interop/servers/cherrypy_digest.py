"""CherryPy with cherrypy.lib.auth_digest (tools.auth_digest).

Usage: python cherrypy_digest.py PORT REALM USER PASS [USER PASS ...]

Serves on 127.0.0.1:PORT:
  /          unprotected text
  /digest/   accept_charset="UTF-8" (the default): the challenge says charset="UTF-8"
  /latin1/   accept_charset="ISO-8859-1": no charset parameter
"""
import secrets
import sys

import cherrypy
from cherrypy.lib import auth_digest


class Page:
    def __init__(self, name):
        self.name = name

    @cherrypy.expose
    def index(self):
        return f"cherrypy /{self.name}/ ok, user={cherrypy.request.login}\n"


class Root:
    @cherrypy.expose
    def index(self):
        return "cherrypy root (unprotected)\n"


def main():
    port = int(sys.argv[1])
    realm = sys.argv[2]
    pairs = sys.argv[3:]
    users = {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2)}
    key = secrets.token_hex(16)
    root = Root()
    root.digest = Page("digest")
    root.latin1 = Page("latin1")

    def digest(charset):
        return {
            "tools.auth_digest.on": True,
            "tools.auth_digest.realm": realm,
            "tools.auth_digest.get_ha1": auth_digest.get_ha1_dict_plain(users),
            "tools.auth_digest.key": key,
            "tools.auth_digest.accept_charset": charset,
        }

    cherrypy.config.update({
        "server.socket_host": "127.0.0.1",
        "server.socket_port": port,
        "engine.autoreload.on": False,
        "log.screen": True,
    })
    cherrypy.quickstart(root, "/", {"/digest": digest("UTF-8"), "/latin1": digest("ISO-8859-1")})


if __name__ == "__main__":
    main()
