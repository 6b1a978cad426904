package dev.thoughtstream.emitter.telegram;

import dev.thoughtstream.common.config.TelegramSettings;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * TelegramBots' HTTP client pointed at {@code TG_API_URL}. Error pages from Telegram's front end reach TelegramBots
 * in the Bot API's error shape with their real status ({@link GatewayErrors}).
 */
public final class TelegramClients {
    private TelegramClients() {}

    public static OkHttpClient http() {
        return new OkHttpClient.Builder()
                // OkHttp would otherwise resend a request whose connection failed after it may have reached
                // Telegram: a doubled bubble. Our lanes retry only what certainly did not arrive.
                .retryOnConnectionFailure(false)
                .connectTimeout(Duration.ofSeconds(5))
                .readTimeout(Duration.ofSeconds(30))
                .addInterceptor(new GatewayErrors())
                .build();
    }

    public static TelegramClient create(TelegramSettings settings, OkHttpClient http) {
        return new OkHttpTelegramClient(
                http,
                settings.token().reveal(),
                new TelegramUrl(settings.scheme(), settings.host(), settings.port(), false));
    }

    /** OkHttp's threads and pooled connections; call after the client's last use. */
    public static void release(OkHttpClient http) {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}
