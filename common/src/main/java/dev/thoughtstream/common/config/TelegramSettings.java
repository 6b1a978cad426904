package dev.thoughtstream.common.config;

import java.net.URI;

/**
 * How the services reach the Telegram Bot API.
 *
 * @param token  {@code TG_BOT_TOKEN} (never logged: {@link Secret})
 * @param apiUrl {@code TG_API_URL}, default {@code https://api.telegram.org}; a self-hosted Bot API server or
 *               the emulator is used by pointing this at it. TelegramBots builds
 *               {@code <scheme>://<host>:<port>/bot<token>/<method>}, so a path is not supported.
 */
public record TelegramSettings(Secret token, URI apiUrl) {
    public static final String TOKEN = "TG_BOT_TOKEN";
    public static final String API_URL = "TG_API_URL";
    public static final String DEFAULT_API_URL = "https://api.telegram.org";

    public static TelegramSettings from(Config config) {
        Secret token = config.secret(TOKEN);
        if (!token.reveal().matches("[0-9]+:[A-Za-z0-9_-]+")) {
            // Do not echo the value: a mistyped token is still mostly a secret.
            throw new ConfigException(
                    TOKEN, "does not look like a bot token (expected <digits>:<letters>, as BotFather issues)");
        }
        URI url = config.httpUrl(API_URL, DEFAULT_API_URL);
        String path = url.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            throw new ConfigException(
                    API_URL, "must not have a path (TelegramBots appends /bot<token>/<method>) but was '" + url + "'");
        }
        return new TelegramSettings(token, url);
    }

    public String scheme() {
        return apiUrl.getScheme().toLowerCase(java.util.Locale.ROOT);
    }

    public String host() {
        return apiUrl.getHost();
    }

    public int port() {
        if (apiUrl.getPort() > 0) {
            return apiUrl.getPort();
        }
        return scheme().equals("https") ? 443 : 80;
    }

    /** The bot's numeric id: the part of the token before the colon; safe to log. */
    public long botId() {
        return Long.parseLong(token.reveal().substring(0, token.reveal().indexOf(':')));
    }

    @Override
    public String toString() {
        return "TelegramSettings[token=" + token + ", apiUrl=" + apiUrl + "]";
    }
}
