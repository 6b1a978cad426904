package dev.thoughtstream.emitter.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * Gives an error answer that is not the Bot API's JSON the Bot API's error shape, keeping its real status:
 * {@code {"ok":false,"error_code":<status>,"description":...}} (plus {@code parameters.retry_after} from a
 * Retry-After header). Telegram's front end (nginx) answers 502, 503 and 504 with its own {@code text/html} page when
 * the Bot API server behind it is away or slow (nginx, src/http/ngx_http_special_response.c; pages from
 * api.telegram.org posted in php-telegram-bot's and node-telegram-bot-api's issue trackers). TelegramBots ignores the
 * HTTP status and only parses the body ({@code PartialBotApiMethod.deserializeResponse}), so such a page would become
 * "Unable to deserialize response" with no error code, indistinguishable from an answer lost on the way. With the
 * real status in {@code error_code}, {@link TelegramMessageSender#classify} can tell a gateway that never passed the
 * request on from one that timed out waiting for it. Success answers and JSON errors pass untouched.
 */
final class GatewayErrors implements Interceptor {
    /** Enough of a page for its title; nginx's are under 200 bytes. */
    static final long PEEK_BYTES = 4096;

    private static final MediaType JSON = MediaType.get("application/json");
    private static final Pattern TITLE =
            Pattern.compile("<title>\\s*(?:\\d{3}\\s+)?([^<]{1,100}?)\\s*</title>", Pattern.CASE_INSENSITIVE);

    @Override
    public Response intercept(Chain chain) throws IOException {
        Response response = chain.proceed(chain.request());
        if (response.code() < 400 || declaredJson(response)) {
            return response;
        }
        String start = response.peekBody(PEEK_BYTES).string();
        if (start.stripLeading().startsWith("{")) {
            // JSON without its content type: TelegramBots can read it as it is.
            return response;
        }
        String contentType = response.header("Content-Type", "no content type");
        byte[] error = errorJson(response.code(), phrase(start, response.message()), contentType, retryAfter(response));
        response.close();
        return response.newBuilder()
                .removeHeader("Content-Length")
                .removeHeader("Content-Encoding")
                .header("Content-Type", JSON.toString())
                .body(ResponseBody.create(error, JSON))
                .build();
    }

    private static boolean declaredJson(Response response) {
        String type = response.header("Content-Type");
        return type != null && type.toLowerCase(Locale.ROOT).contains("json");
    }

    /** The page's title without its status ("Bad Gateway"), else the status line's reason phrase. */
    static String phrase(String page, String reason) {
        Matcher title = TITLE.matcher(page);
        if (title.find() && !title.group(1).isBlank()) {
            return title.group(1).strip();
        }
        return reason == null || reason.isBlank() ? "error" : reason.strip();
    }

    /** Retry-After in seconds (the delta form; an HTTP date is ignored), else null. */
    private static Integer retryAfter(Response response) {
        String value = response.header("Retry-After");
        if (value == null) {
            return null;
        }
        try {
            int seconds = Integer.parseInt(value.trim());
            return seconds >= 0 ? seconds : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static byte[] errorJson(int status, String phrase, String contentType, Integer retryAfter) {
        ObjectNode error = Json.mapper().createObjectNode();
        error.put("ok", false);
        error.put("error_code", status);
        error.put(
                "description",
                phrase + " (" + contentType + " from Telegram's front end instead of the Bot API's JSON)");
        if (retryAfter != null) {
            error.putObject("parameters").put("retry_after", retryAfter);
        }
        try {
            return Json.mapper().writeValueAsBytes(error);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a Bot API error", e);
        }
    }
}
