package dev.thoughtstream.testkit.telegram;

import com.sun.net.httpserver.HttpExchange;
import dev.thoughtstream.common.serde.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Small helpers around {@link HttpExchange}: bounded body reads, JSON answers, form decoding. */
final class HttpIo {
    /** Far above anything the Bot API methods we emulate accept; stops a runaway client from eating the heap. */
    static final int MAX_BODY_BYTES = 1 << 20;

    private HttpIo() {}

    static byte[] readBody(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                if (out.size() > MAX_BODY_BYTES) {
                    throw new IllegalArgumentException("request body is larger than " + MAX_BODY_BYTES + " bytes");
                }
            }
            return out.toByteArray();
        }
    }

    static void sendJson(HttpExchange exchange, int status, Object body) throws IOException {
        send(exchange, status, "application/json", Json.mapper().writeValueAsBytes(body));
    }

    static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equalsIgnoreCase(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /**
     * Decodes {@code a=1&b=x%20y}; later duplicates win.
     *
     * @throws IllegalArgumentException on a malformed percent escape
     */
    static Map<String, String> parseForm(String raw) {
        Map<String, String> values = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return values;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            values.put(
                    URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        return values;
    }

    /**
     * The text fields of a multipart/form-data body (TelegramBots sends setWebhook this way). File parts are
     * skipped: the emulator stores no files.
     *
     * @throws IllegalArgumentException when the body does not match its declared boundary
     */
    static Map<String, String> parseMultipart(byte[] body, String contentType) {
        String boundary = null;
        for (String part : contentType.split(";")) {
            String trimmed = part.trim();
            if (trimmed.toLowerCase(Locale.ROOT).startsWith("boundary=")) {
                boundary = trimmed.substring("boundary=".length()).replace("\"", "");
            }
        }
        if (boundary == null || boundary.isEmpty()) {
            throw new IllegalArgumentException("multipart body without boundary");
        }
        // ISO-8859-1 maps bytes 1:1 to chars, so indexes stay byte offsets; values are re-decoded as UTF-8.
        String s = new String(body, StandardCharsets.ISO_8859_1);
        String delimiter = "--" + boundary;
        Map<String, String> values = new LinkedHashMap<>();
        int pos = s.indexOf(delimiter);
        if (pos < 0) {
            throw new IllegalArgumentException("multipart body does not contain its boundary");
        }
        while (true) {
            pos += delimiter.length();
            if (s.startsWith("--", pos)) {
                return values;
            }
            if (s.startsWith("\r\n", pos)) {
                pos += 2;
            }
            int headerEnd = s.indexOf("\r\n\r\n", pos);
            int next = headerEnd < 0 ? -1 : s.indexOf("\r\n" + delimiter, headerEnd + 4);
            if (next < 0) {
                throw new IllegalArgumentException("truncated multipart body");
            }
            String name = null;
            boolean file = false;
            for (String header : s.substring(pos, headerEnd).split("\r\n")) {
                if (header.toLowerCase(Locale.ROOT).startsWith("content-disposition:")) {
                    name = dispositionParameter(header, "name");
                    file = dispositionParameter(header, "filename") != null;
                }
            }
            if (name != null && !file) {
                byte[] value = s.substring(headerEnd + 4, next).getBytes(StandardCharsets.ISO_8859_1);
                values.put(
                        new String(name.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8),
                        new String(value, StandardCharsets.UTF_8));
            }
            pos = next + 2;
        }
    }

    private static String dispositionParameter(String header, String parameter) {
        for (String piece : header.split(";")) {
            String trimmed = piece.trim();
            if (trimmed.toLowerCase(Locale.ROOT).startsWith(parameter + "=")) {
                return trimmed.substring(parameter.length() + 1).replace("\"", "");
            }
        }
        return null;
    }

    static String contentType(HttpExchange exchange) {
        String value = exchange.getRequestHeaders().getFirst("Content-Type");
        return value == null ? "" : value;
    }
}
