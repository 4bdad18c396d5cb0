// Lab server: github.com/abbot/go-http-auth (Debian golang-github-abbot-go-http-auth-dev)
// as an origin and as a forward proxy.
//
// Usage: go-http-auth-lab ORIGIN_PORT PROXY_PORT REALM USER PASS [USER PASS ...]
//
// Origin on 127.0.0.1:ORIGIN_PORT:
//
//	/          unprotected text
//	/digest/   auth.DigestAuth (MD5, qop=auth, nonce counts checked, uri compared with
//	           the request-target)
//
// Proxy on 127.0.0.1:PROXY_PORT: auth.DigestAuth with auth.ProxyHeaders (407,
// Proxy-Authenticate) in front of a forward proxy (net/http/httputil) that forwards only
// to http://127.0.0.1:<port>/ (403 otherwise, CONNECT included) and drops
// Proxy-Authorization.
package main

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"os"
	"regexp"

	auth "github.com/abbot/go-http-auth"
)

func ha1(user, realm, pass string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + pass))
	return hex.EncodeToString(sum[:])
}

var loopback = regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/`)

func main() {
	if len(os.Args) < 6 || len(os.Args)%2 != 0 {
		log.Fatalf("usage: %s ORIGIN_PORT PROXY_PORT REALM USER PASS [USER PASS ...]", os.Args[0])
	}
	originPort, proxyPort, realm := os.Args[1], os.Args[2], os.Args[3]
	secrets := map[string]string{}
	for i := 4; i+1 < len(os.Args); i += 2 {
		secrets[os.Args[i]] = ha1(os.Args[i], realm, os.Args[i+1])
	}
	provider := func(user, r string) string {
		if r != realm {
			return ""
		}
		return secrets[user]
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "go-http-auth root (unprotected)")
	})
	origin := auth.NewDigestAuthenticator(realm, provider)
	mux.HandleFunc("/digest/", origin.Wrap(func(w http.ResponseWriter, r *auth.AuthenticatedRequest) {
		fmt.Fprintf(w, "go-http-auth /digest/ ok, user=%s\n", r.Username)
	}))

	proxyAuth := auth.NewDigestAuthenticator(realm, provider)
	proxyAuth.Headers = auth.ProxyHeaders
	forward := &httputil.ReverseProxy{Director: func(r *http.Request) {
		r.Header.Del("Proxy-Authorization")
	}}
	proxy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect || !loopback.MatchString(r.RequestURI) {
			http.Error(w, "only http://127.0.0.1:<port>/ is proxied", http.StatusForbidden)
			return
		}
		proxyAuth.Wrap(func(w http.ResponseWriter, ar *auth.AuthenticatedRequest) {
			forward.ServeHTTP(w, &ar.Request)
		})(w, r)
	})

	go func() {
		log.Fatal(http.ListenAndServe("127.0.0.1:"+proxyPort, proxy))
	}()
	log.Fatal(http.ListenAndServe("127.0.0.1:"+originPort, mux))
}
