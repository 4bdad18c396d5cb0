#!/usr/bin/env bash
# Apache Tomcat 10.1 (Debian tomcat10-common / libtomcat10-java) with its
# DigestAuthenticator (RFC 7616), private instance: CATALINA_BASE in the run
# dir, CATALINA_HOME=/usr/share/tomcat10, java started directly (no service).
# One webapp (context) per DigestAuthenticator configuration:
#
#   /md5/         algorithms="MD5"
#   /sha256/      algorithms="SHA-256"
#   /sha512-256/  algorithms="SHA-512-256"
#   /multi/       algorithms="SHA-512-256,SHA-256,MD5" (one WWW-Authenticate per
#                 algorithm, all with the same nonce)
#   /stale/       algorithms="MD5", nonceValidity=3000 ms (after 3 s a correct
#                 response gets 401 with stale=true)
#
# qop is always "auth"; opaque is always sent and must be echoed; no -sess
# algorithms, no userhash, no Authentication-Info.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=tomcat
PORT=$PORT_TOMCAT
URL="http://127.0.0.1:$PORT/"
D="$RUN_DIR/$NAME"
TC_HOME=/usr/share/tomcat10

ensure_run_dir
# tomcat10-common + libtomcat10-java give the server without the tomcat10
# service package (which would pull in systemd units).
ensure_pkgs default-jre-headless tomcat10-common libtomcat10-java python3 curl

if running "$NAME"; then
    wait_http "$URL" "$NAME" 200
    echo "READY $NAME $URL"
    exit 0
fi
claim_ports "$NAME" "$PORT"

rm -rf "$D"
mkdir -p "$D/conf" "$D/logs" "$D/temp" "$D/work" "$D/webapps/ROOT"
# The stock conf/ files come with the tomcat10 service package (/etc/tomcat10),
# which is not installed. catalina.properties: the default built into
# catalina.jar (class loaders, package access), plus: skip jar scanning
# (faster start).
/usr/bin/python3 - "$TC_HOME/lib/catalina.jar" "$D/conf/catalina.properties" <<'PY' \
    || die "cannot extract catalina.properties from $TC_HOME/lib/catalina.jar"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("org/apache/catalina/startup/catalina.properties"))
PY
printf '\ntomcat.util.scan.StandardJarScanFilter.jarsToSkip=*.jar\n' >>"$D/conf/catalina.properties"
# Global web.xml: only the default servlet (static files, no listings) and
# index.html as welcome file; each protected webapp below has its own
# WEB-INF/web.xml with the DIGEST login config.
cat >"$D/conf/web.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <servlet>
    <servlet-name>default</servlet-name>
    <servlet-class>org.apache.catalina.servlets.DefaultServlet</servlet-class>
    <init-param><param-name>listings</param-name><param-value>false</param-value></init-param>
    <load-on-startup>1</load-on-startup>
  </servlet>
  <servlet-mapping>
    <servlet-name>default</servlet-name>
    <url-pattern>/</url-pattern>
  </servlet-mapping>
  <mime-mapping><extension>html</extension><mime-type>text/html</mime-type></mime-mapping>
  <welcome-file-list><welcome-file>index.html</welcome-file></welcome-file-list>
</web-app>
EOF
cat >"$D/conf/logging.properties" <<'EOF'
handlers = java.util.logging.ConsoleHandler
.level = INFO
java.util.logging.ConsoleHandler.level = FINE
java.util.logging.ConsoleHandler.formatter = org.apache.juli.OneLineFormatter
EOF

cat >"$D/conf/server.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="$PORT" protocol="HTTP/1.1" connectionTimeout="20000" maxThreads="20" />
    <Engine name="Catalina" defaultHost="localhost">
      <Realm className="org.apache.catalina.realm.MemoryRealm" pathname="conf/tomcat-users.xml" />
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" deployOnStartup="true" />
    </Engine>
  </Service>
</Server>
EOF

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/"/\&quot;/g' -e 's/</\&lt;/g'; }
cat >"$D/conf/tomcat-users.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<tomcat-users>
  <user username="$(printf '%s' "$LAB_USER" | xml_escape)" password="$(printf '%s' "$LAB_PASS" | xml_escape)" roles="lab" />
  <user username="$(printf '%s' "$LAB_UTF8_USER" | xml_escape)" password="$(printf '%s' "$LAB_UTF8_PASS" | xml_escape)" roles="lab" />
</tomcat-users>
EOF

echo "tomcat root (unprotected)" >"$D/webapps/ROOT/index.html"

mkapp() { # name valve-attributes
    local app="$D/webapps/$1"
    mkdir -p "$app/META-INF" "$app/WEB-INF"
    echo "tomcat $1 ok" >"$app/index.html"
    cat >"$app/META-INF/context.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <Valve className="org.apache.catalina.authenticator.DigestAuthenticator" $2 />
</Context>
EOF
    cat >"$app/WEB-INF/web.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <security-constraint>
    <web-resource-collection>
      <web-resource-name>all</web-resource-name>
      <url-pattern>/*</url-pattern>
    </web-resource-collection>
    <auth-constraint><role-name>lab</role-name></auth-constraint>
  </security-constraint>
  <login-config>
    <auth-method>DIGEST</auth-method>
    <realm-name>$LAB_REALM</realm-name>
  </login-config>
  <security-role><role-name>lab</role-name></security-role>
</web-app>
EOF
}
mkapp md5 'algorithms="MD5"'
mkapp sha256 'algorithms="SHA-256"'
mkapp sha512-256 'algorithms="SHA-512-256"'
mkapp multi 'algorithms="SHA-512-256,SHA-256,MD5"'
mkapp stale 'algorithms="MD5" nonceValidity="3000"'

JAVA="$(command -v java || true)"
[ -n "$JAVA" ] || die "java not found after installing default-jre-headless"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Djava.util.logging.config.file="$D/conf/logging.properties" \
    -Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager \
    -Dcatalina.base="$D" -Dcatalina.home="$TC_HOME" -Djava.io.tmpdir="$D/temp" \
    -cp "$TC_HOME/bin/bootstrap.jar:$TC_HOME/bin/tomcat-juli.jar" \
    org.apache.catalina.startup.Bootstrap start
wait_http "$URL" "$NAME" 200
echo "READY $NAME $URL"
