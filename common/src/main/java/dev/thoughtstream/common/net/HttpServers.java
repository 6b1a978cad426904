package dev.thoughtstream.common.net;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Creates the JDK's {@link HttpServer}s of this code base (ingest's webhook endpoint, the services' metrics and
 * health, the test Telegram and model servers) with Nagle's algorithm off on their connections.
 *
 * <p>Why: the JDK's server writes a response's headers and its body as separate small segments, and by default
 * leaves {@code TCP_NODELAY} off ({@code sun.net.httpserver.nodelay}, read once per JVM by
 * {@code sun.net.httpserver.ServerConfig}). On a kept-alive connection the body then waits for the client's
 * acknowledgement of the headers, which a client sends only after its delayed-ACK timer (about 40 ms on Linux): every
 * answer takes 40 ms instead of 1. For a webhook that is Telegram waiting 40 ms per update on each of its
 * connections. The property is set here, before the JVM's first server reads it, unless the operator set it
 * ({@code -Dsun.net.httpserver.nodelay=false} still wins).
 */
public final class HttpServers {
    /** The JDK's switch (jdk.httpserver's {@code ServerConfig}): true sets {@code TCP_NODELAY} on every connection. */
    public static final String NO_DELAY = "sun.net.httpserver.nodelay";

    private HttpServers() {}

    /** {@link HttpServer#create(InetSocketAddress, int)}, with {@link #NO_DELAY} on unless set otherwise. */
    public static HttpServer create(InetSocketAddress address, int backlog) throws IOException {
        noDelay();
        return HttpServer.create(address, backlog);
    }

    /** Turns {@link #NO_DELAY} on for this JVM unless it was set explicitly; effective before its first server. */
    public static synchronized void noDelay() {
        if (System.getProperty(NO_DELAY) == null) {
            System.setProperty(NO_DELAY, "true");
        }
    }
}
