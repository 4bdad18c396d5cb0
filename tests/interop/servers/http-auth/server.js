"use strict";
// Lab server: the npm package http-auth (digest mode) on Node's http module, as an origin
// and as a forward proxy (http-auth's proxy option: 407 and Proxy-Authenticate) built on
// the npm package http-proxy.
//
// Usage: node server.js ORIGIN_PORT PROXY_PORT HTDIGEST_FILE REALM
//
// Origin on 127.0.0.1:ORIGIN_PORT:
//   /            unprotected text
//   /digest/     digest, qop "auth"
//   /qop-none/   digest, qop "none" (the challenge says qop="")
//   /md5-sess/   digest, algorithm "MD5-sess"
// Proxy on 127.0.0.1:PROXY_PORT: digest with proxy: true in front of http-proxy, which
// forwards only to http://127.0.0.1:<port>/ (403 otherwise, CONNECT included) and drops
// Proxy-Authorization.
const http = require("http");
const auth = require("http-auth");
const httpProxy = require("http-proxy");

const [originPort, proxyPort, file, realm] = process.argv.slice(2);
if (!realm) {
  console.error("usage: node server.js ORIGIN_PORT PROXY_PORT HTDIGEST_FILE REALM");
  process.exit(2);
}

const locations = {
  "/digest/": auth.digest({ realm, file }),
  "/qop-none/": auth.digest({ realm, file, qop: "none" }),
  "/md5-sess/": auth.digest({ realm, file, algorithm: "MD5-sess" }),
};
const handlers = {};
for (const [path, digest] of Object.entries(locations)) {
  handlers[path] = digest.check((req, res) => {
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end(`http-auth ${path} ok, user=${req.user}\n`);
  });
}

http
  .createServer((req, res) => {
    const path = req.url.split("?")[0];
    const handler = handlers[path];
    if (handler) return handler(req, res);
    if (path === "/") {
      res.setHeader("Content-Type", "text/plain");
      return res.end("http-auth root (unprotected)\n");
    }
    res.statusCode = 404;
    res.end("not found\n");
  })
  .listen(originPort, "127.0.0.1");

const proxy = httpProxy.createProxyServer({});
proxy.on("error", (err, req, res) => {
  res.statusCode = 502;
  res.end(`proxy error: ${err.message}\n`);
});
const proxyAuth = auth.digest({ realm, file, proxy: true });
const forward = proxyAuth.check((req, res) => {
  delete req.headers["proxy-authorization"];
  proxy.web(req, res, { target: new URL(req.url).origin });
});
const loopback = /^http:\/\/127\.0\.0\.1:[0-9]+\//;
const proxyServer = http.createServer((req, res) => {
  if (!loopback.test(req.url)) {
    res.statusCode = 403;
    return res.end("only http://127.0.0.1:<port>/ is proxied\n");
  }
  forward(req, res);
});
proxyServer.on("connect", (req, socket) => {
  socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
});
proxyServer.listen(proxyPort, "127.0.0.1");
