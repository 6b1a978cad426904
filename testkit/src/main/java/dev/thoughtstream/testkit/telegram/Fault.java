package dev.thoughtstream.testkit.telegram;

import java.util.Map;

/**
 * A planned failure: the next {@code remaining} matching Bot API calls fail the way Telegram fails. Without a
 * {@code body} the answer is the Bot API's JSON error; with one, the call is answered with exactly that status,
 * content type and body, the way Telegram's front end answers when the Bot API server behind it is away.
 *
 * @param method            lower-cased method name the fault applies to
 * @param status            HTTP status (and error_code of a JSON error) to answer
 * @param retryAfterSeconds sent as parameters.retry_after (a raw answer: as a Retry-After header) when positive
 * @param remaining         how many more calls will fail
 * @param chatId            only calls for this chat; null for any call of the method
 * @param description       the description of a JSON error; null for a raw answer
 * @param contentType       the Content-Type of a raw answer; null for the Bot API's JSON error
 * @param body              the body of a raw answer; null for the Bot API's JSON error
 * @param processed         true when the call is carried out before the fault is answered (a gateway timeout after
 *                          the Bot API did the work); false when it never reaches the Bot API
 */
public record Fault(
        String method,
        int status,
        int retryAfterSeconds,
        int remaining,
        Long chatId,
        String description,
        String contentType,
        String body,
        boolean processed) {

    /** The content type of nginx's own error pages. */
    public static final String NGINX_CONTENT_TYPE = "text/html";

    /*
     * The titles of nginx's built-in error pages (nginx, src/http/ngx_http_special_response.c,
     * ngx_http_error_5xx_page and friends): what api.telegram.org's front end answers when it cannot get an answer
     * from the Bot API server behind it. Users of php-telegram-bot and node-telegram-bot-api have posted such pages
     * from api.telegram.org (setWebhook and getUpdates answered "502 Bad Gateway" as text/html, the server line
     * reading nginx/1.10.0 or nginx/1.12.2) in those projects' issue trackers.
     */
    private static final Map<Integer, String> NGINX_TITLES = Map.of(
            400, "400 Bad Request",
            403, "403 Forbidden",
            404, "404 Not Found",
            413, "413 Request Entity Too Large",
            429, "429 Too Many Requests",
            500, "500 Internal Server Error",
            502, "502 Bad Gateway",
            503, "503 Service Temporarily Unavailable",
            504, "504 Gateway Time-out");

    /** A planned JSON Bot API error (the shape of {@link TelegramEmulator#faults()} before raw answers existed). */
    public Fault(String method, int status, int retryAfterSeconds, int remaining, Long chatId, String description) {
        this(method, status, retryAfterSeconds, remaining, chatId, description, null, null, false);
    }

    /**
     * nginx's error page for {@code status}, byte for byte as nginx builds it (page, then its tail
     * {@code <hr><center>nginx</center>}, lines ended with CRLF; nginx, src/http/ngx_http_special_response.c). Pages
     * from api.telegram.org have also carried the version in the tail ({@code nginx/1.12.2}) and, before nginx
     * 1.15.4, a {@code bgcolor} attribute: a client must not depend on the exact text, only on it not being JSON.
     *
     * @throws IllegalArgumentException for a status without a page here (400, 403, 404, 413, 429, 500, 502, 503, 504)
     */
    public static String nginxErrorPage(int status) {
        String title = NGINX_TITLES.get(status);
        if (title == null) {
            throw new IllegalArgumentException(
                    "no nginx error page for status " + status + "; pick one of " + NGINX_TITLES.keySet());
        }
        return "<html>\r\n"
                + "<head><title>" + title + "</title></head>\r\n"
                + "<body>\r\n"
                + "<center><h1>" + title + "</h1></center>\r\n"
                + "<hr><center>nginx</center>\r\n"
                + "</body>\r\n"
                + "</html>\r\n";
    }

    /**
     * The next {@code times} calls of {@code method} are answered by Telegram's front end instead of the Bot API:
     * {@code status} with nginx's {@code text/html} error page ({@link #nginxErrorPage}), not JSON. The call does not
     * reach the Bot API; see {@link #processedFirst()} for a gateway timeout after the Bot API did the work.
     */
    public static Fault nginx(String method, int status, int times) {
        return new Fault(method, status, 0, times, null, null, NGINX_CONTENT_TYPE, nginxErrorPage(status), false);
    }

    /** This fault for calls into {@code chat} only. */
    public Fault forChat(long chat) {
        return new Fault(method, status, retryAfterSeconds, remaining, chat, description, contentType, body, processed);
    }

    /**
     * This fault answered after the call has been carried out: what a client sees when the Bot API sent the message
     * but its answer came too late for the front end (nginx answers 504 once proxy_read_timeout passes; the work
     * behind it is not undone). Only calls that succeed are answered so; a call the Bot API refuses gets its refusal.
     */
    public Fault processedFirst() {
        return new Fault(method, status, retryAfterSeconds, remaining, chatId, description, contentType, body, true);
    }

    /** True when the answer is a raw one (any content type and body) rather than the Bot API's JSON error. */
    public boolean raw() {
        return body != null;
    }
}
