package dev.thoughtstream.testkit.telegram;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's POSTs to plain {@code http://} URLs over kept-alive sockets, one blocking request per connection at a
 * time: what the Bot API server does in C++ for next to nothing. The JDK's client costs the machine several thread
 * hand-offs per request, which on the two cores a benchmark shares with ingest and Kafka was a third of all CPU
 * spent on a webhook run; with this the benchmark measures ingest, not the emulator. HTTP/1.1 only, as Telegram
 * speaks to webhooks; a response body (by {@code Content-Length}, chunked, or to the end of the connection) is read
 * and discarded. Thread-safe: idle connections are shared per host and port.
 */
final class PlainHttpPoster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PlainHttpPoster.class);
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final Map<String, Deque<Connection>> idle = new ConcurrentHashMap<>();
    private volatile boolean closed;

    PlainHttpPoster(Duration connectTimeout, Duration requestTimeout) {
        this.connectTimeout = connectTimeout;
        this.requestTimeout = requestTimeout;
    }

    /**
     * What the webhook answered: the status line's code and reason phrase, and its {@code Retry-After} header (null
     * without one), which Telegram honours on a failed delivery.
     */
    record Response(int status, String reason, String retryAfter) {}

    /**
     * POSTs {@code body} as JSON and returns the status code.
     *
     * @throws IOException when no response came (refused, reset, timed out)
     */
    int postJson(URI url, Map<String, String> headers, byte[] body) throws IOException {
        return post(url, headers, body).status();
    }

    /**
     * POSTs {@code body} as JSON and returns the answer's status line and {@code Retry-After}.
     *
     * @throws IOException when no response came (refused, reset, timed out)
     */
    Response post(URI url, Map<String, String> headers, byte[] body) throws IOException {
        String host = url.getHost();
        int port = url.getPort() > 0 ? url.getPort() : 80;
        String key = host + ":" + port;
        StringBuilder head = new StringBuilder(256)
                .append("POST ")
                .append(url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
                .append(url.getRawQuery() == null ? "" : "?" + url.getRawQuery())
                .append(" HTTP/1.1\r\n")
                .append("Host: ")
                .append(host)
                .append(url.getPort() > 0 ? ":" + port : "")
                .append("\r\n")
                .append("Content-Type: application/json\r\n")
                .append("Content-Length: ")
                .append(body.length)
                .append("\r\n");
        headers.forEach(
                (name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        byte[] request = concat(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1), body);
        Connection reused = take(key);
        if (reused != null) {
            try {
                return reused.exchange(request, key);
            } catch (StaleConnection e) {
                // The server closed it while it was idle; a new connection decides.
            }
        }
        Connection fresh = new Connection(connect(host, port));
        try {
            return fresh.exchange(request, key);
        } catch (StaleConnection e) {
            throw new IOException("the webhook closed the connection without answering", e.getCause());
        }
    }

    private Connection take(String key) {
        Deque<Connection> pool = idle.get(key);
        return pool == null ? null : pool.pollFirst();
    }

    private void giveBack(String key, Connection c) {
        if (closed) {
            c.close();
            return;
        }
        idle.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).addFirst(c);
    }

    private Socket connect(String host, int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
            socket.setSoTimeout((int) requestTimeout.toMillis());
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Override
    public void close() {
        closed = true;
        idle.values().forEach(pool -> {
            for (Connection c; (c = pool.pollFirst()) != null; ) {
                c.close();
            }
        });
    }

    /** A kept-alive connection that was closed before a byte of the answer came: safe to try once more. */
    private static final class StaleConnection extends IOException {
        private static final long serialVersionUID = 1L;

        StaleConnection(Throwable cause) {
            super("connection closed before an answer", cause);
        }
    }

    private final class Connection {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 8192);
            this.out = socket.getOutputStream();
        }

        Response exchange(byte[] request, String key) throws IOException {
            boolean answered = false;
            try {
                out.write(request);
                out.flush();
                String status = line(true);
                answered = true;
                // "HTTP/1.1 200 OK"
                int space = status.indexOf(' ');
                if (!status.startsWith("HTTP/1.") || space < 0 || status.length() < space + 4) {
                    throw new IOException("not an HTTP response: " + status);
                }
                int code = Integer.parseInt(status.substring(space + 1, space + 4));
                String reason = status.substring(space + 4).trim();
                String retryAfter = null;
                long length = -1;
                boolean chunked = false;
                boolean keepAlive = !status.startsWith("HTTP/1.0");
                for (String header = line(false); !header.isEmpty(); header = line(false)) {
                    int colon = header.indexOf(':');
                    if (colon < 0) {
                        continue;
                    }
                    String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                    String value = header.substring(colon + 1).trim();
                    switch (name) {
                        case "content-length" -> length = Long.parseLong(value);
                        case "retry-after" -> retryAfter = value;
                        case "transfer-encoding" ->
                            chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                        case "connection" ->
                            keepAlive = !value.equalsIgnoreCase("close")
                                    && (keepAlive || value.equalsIgnoreCase("keep-alive"));
                        default -> {}
                    }
                }
                if (chunked) {
                    for (long size = Long.parseLong(line(false).split(";")[0].trim(), 16);
                            size > 0;
                            size = Long.parseLong(line(false).split(";")[0].trim(), 16)) {
                        skip(size);
                        line(false);
                    }
                    // Trailers, up to the empty line.
                    while (!line(false).isEmpty()) {
                        // discarded
                    }
                } else if (length >= 0) {
                    skip(length);
                } else if (code != 204 && code != 304 && code >= 200) {
                    // Neither length nor chunks: the body ends with the connection.
                    in.transferTo(OutputStream.nullOutputStream());
                    keepAlive = false;
                }
                if (keepAlive) {
                    giveBack(key, this);
                } else {
                    close();
                }
                return new Response(code, reason, retryAfter);
            } catch (IOException | RuntimeException e) {
                close();
                if (!answered && e instanceof IOException io && !(io instanceof java.net.SocketTimeoutException)) {
                    throw new StaleConnection(e);
                }
                throw e instanceof IOException io ? io : new IOException("bad HTTP response: " + e, e);
            }
        }

        /** One CRLF-terminated line; at the first one, an immediate end of stream means the peer had closed. */
        private String line(boolean first) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            int b;
            while ((b = in.read()) != -1) {
                if (b == '\n') {
                    int n = bytes.size();
                    byte[] raw = bytes.toByteArray();
                    return new String(raw, 0, n > 0 && raw[n - 1] == '\r' ? n - 1 : n, StandardCharsets.ISO_8859_1);
                }
                bytes.write(b);
            }
            if (first && bytes.size() == 0) {
                throw new EOFException("closed before the status line");
            }
            throw new EOFException("the response ended mid-line");
        }

        private void skip(long n) throws IOException {
            long left = n;
            while (left > 0) {
                long skipped = in.skip(left);
                if (skipped <= 0) {
                    if (in.read() == -1) {
                        throw new EOFException("the response body ended early");
                    }
                    skipped = 1;
                }
                left -= skipped;
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing a webhook connection: {}", e.toString());
            }
        }
    }
}
