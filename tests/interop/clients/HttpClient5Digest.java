// Runs one Digest-authenticated request (or a short series) with Apache HttpClient 5
// (classic API, DigestScheme), the Java client peer of the interop lab.
//
//   clients-java.sh prints the java command line (classpath included); then
//   java ... HttpClient5Digest [--repeat N] [--method M] [--data BODY] [-v] URL USER PASS
//
// Prints what digest_client.py prints: one line per request, "httpclient5 <METHOD> <url> ->
// <status>" (or "-> ERROR <exception>"), and with -v the challenges seen, every
// Authorization sent, Authentication-Info, and the body percent-encoded ("<- body: ...").
// Every request of a series goes through one client and one HttpClientContext, so the
// client may reuse the nonce it learnt. Exit status 0 only if every request ended with 200.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.auth.BasicCredentialsProvider;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.StringEntity;

public final class HttpClient5Digest {
    private static boolean verbose;

    private static void show(String line) {
        if (verbose) {
            System.out.println("    " + line);
        }
    }

    /** Every byte but ASCII letters and digits as %XX. */
    private static String percent(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        for (byte b : bytes) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
                out.append((char) c);
            } else {
                out.append(String.format("%%%02X", c));
            }
        }
        return out.toString();
    }

    public static void main(String[] argv) throws Exception {
        int repeat = 1;
        String method = "GET";
        String data = null;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            switch (argv[i]) {
                case "--repeat" -> repeat = Integer.parseInt(argv[++i]);
                case "--method" -> method = argv[++i];
                case "--data" -> data = argv[++i];
                case "-v" -> verbose = true;
                default -> rest.add(argv[i]);
            }
        }
        if (rest.size() != 3) {
            System.err.println("usage: HttpClient5Digest [--repeat N] [--method M] [--data BODY] [-v] URL USER PASS");
            System.exit(64);
        }
        String url = rest.get(0);
        BasicCredentialsProvider credentials = new BasicCredentialsProvider();
        credentials.setCredentials(new AuthScope(null, -1),
                new UsernamePasswordCredentials(rest.get(1), rest.get(2).toCharArray()));
        boolean allOk = true;
        // Placed after the protocol handler (which adds Authorization): sees every request
        // as it goes out, the retry after a 401 included.
        try (CloseableHttpClient client = HttpClients.custom()
                .setDefaultCredentialsProvider(credentials)
                .useSystemProperties()
                .addExecInterceptorAfter(ChainElement.PROTOCOL.name(), "record", (request, scope, chain) -> {
                    Header auth = request.getFirstHeader("Authorization");
                    if (auth != null) {
                        show("-> Authorization: " + auth.getValue());
                    }
                    ClassicHttpResponse response = chain.proceed(request, scope);
                    for (Header h : response.getHeaders("WWW-Authenticate")) {
                        show("<- " + response.getCode() + " WWW-Authenticate: " + h.getValue());
                    }
                    return response;
                })
                .build()) {
            HttpClientContext context = HttpClientContext.create();
            for (int i = 0; i < repeat; i++) {
                HttpUriRequestBase request = new HttpUriRequestBase(method, java.net.URI.create(url));
                if (data != null) {
                    request.setEntity(new StringEntity(data, ContentType.TEXT_PLAIN.withCharset(StandardCharsets.UTF_8)));
                }
                try {
                    int status = client.execute(request, context, response -> {
                        Header info = response.getFirstHeader("Authentication-Info");
                        show("<- " + response.getCode() + " Authentication-Info: " + (info == null ? "None" : info.getValue()));
                        byte[] body = response.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(response.getEntity());
                        show("<- body: " + percent(body));
                        return response.getCode();
                    });
                    allOk &= status == 200;
                    System.out.println("httpclient5 " + method + " " + url + " -> " + status);
                } catch (Exception e) {
                    allOk = false;
                    System.out.println("httpclient5 " + method + " " + url + " -> ERROR "
                            + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
        }
        System.exit(allOk ? 0 : 1);
    }
}
