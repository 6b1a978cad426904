package dev.thoughtstream.emitter;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Bot API that takes its time: every sendMessage is counted on arrival and answered (message id
 * {@link #MESSAGE_ID}) only once {@link #release()} is called, so a test can act while a send is on the wire.
 * The emulator answers at once, hence this small stand-in for the moments in between.
 */
public final class SlowBotApi implements AutoCloseable {
    public static final int MESSAGE_ID = 77;

    private final HttpServer server;
    private final ExecutorService threads;
    private final AtomicInteger sendMessages = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);

    public SlowBotApi() {
        threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "slow-bot-api");
            t.setDaemon(true);
            return t;
        });
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        } catch (IOException e) {
            threads.shutdownNow();
            throw new UncheckedIOException(e);
        }
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public int sendMessages() {
        return sendMessages.get();
    }

    public void release() {
        released.countDown();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange;
                InputStream in = exchange.getRequestBody()) {
            in.readAllBytes();
            String path = exchange.getRequestURI().getPath().toLowerCase(Locale.ROOT);
            String body;
            if (path.endsWith("/sendmessage")) {
                sendMessages.incrementAndGet();
                if (!released.await(60, TimeUnit.SECONDS)) {
                    return;
                }
                body = "{\"ok\":true,\"result\":{\"message_id\":" + MESSAGE_ID + ",\"date\":1700000000,"
                        + "\"chat\":{\"id\":1,\"type\":\"private\"},\"text\":\"held\"}}";
            } else {
                body = "{\"ok\":true,\"result\":true}";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        release();
        server.stop(0);
        threads.shutdownNow();
    }
}
