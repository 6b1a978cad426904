package dev.thoughtstream.ingest.intake;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.logging.LogContext;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.ingest.IngestConfig;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Judges each new update before it is written: group addressing, allow-lists, flood guard, size cap, in that
 * order (chatter in a group that is not for the bot is ignored silently, whoever wrote it; only then may a person
 * be refused or slowed down). An update that is not written may come with one notice for the person, a
 * {@link ReplyPart} for the replies topic whose ids derive from the update, so a redelivered update yields the
 * same ids and the emitter sends it once.
 *
 * <p>Redis down: the flood guard lets messages through and the "once" memory stays silent (a refusal or flood
 * notice is skipped rather than risk sending one per message); both are counted in
 * {@code ingest_rules_unavailable_total{check}}. See docs/ingest.md, "Access and abuse".
 */
public final class IntakeRules {
    private static final Logger LOG = LoggerFactory.getLogger(IntakeRules.class);
    /** How long a refused person is remembered, so the refusal is said once. */
    static final Duration REFUSAL_MEMORY = Duration.ofDays(90);

    /** The judgement on one update: what became of it, what to write (null: nothing) and what to tell (null: nothing). */
    record Verdict(IngestResult result, JsonNode toWrite, ReplyPart notice) {}

    private final AccessSettings settings;
    private final AccessPolicy access;
    private final GroupAddressing groups;
    private final FloodGuard flood;
    private final MessageSizeCap sizeCap;
    private final NoticeOnce once;
    private final String keyPrefix;
    private final Clock clock;
    private final Map<IngestResult, Metrics.Counter> results = new EnumMap<>(IngestResult.class);
    private final Metrics.Counter floodUnavailable;
    private final Metrics.Counter noticeMemoryUnavailable;

    private IntakeRules(
            AccessSettings settings,
            long botId,
            String botUsername,
            ClaimStore claims,
            FloodWindow window,
            Metrics metrics,
            Clock clock) {
        this.settings = settings;
        this.access = new AccessPolicy(settings.allowedUsers(), settings.allowedChats());
        this.groups = new GroupAddressing(settings.groupMode(), botId, botUsername);
        this.flood = new FloodGuard(window, window == null ? 0 : settings.maxMessagesPerMinute(), clock);
        this.sizeCap = new MessageSizeCap(settings.maxMessageChars());
        this.once = claims == null ? null : new NoticeOnce(claims);
        this.keyPrefix = "ingest:" + botId + ":";
        this.clock = clock;
        for (IngestResult r : IngestResult.values()) {
            results.put(
                    r,
                    metrics.counter(
                            "ingest_updates_total",
                            "Telegram updates by what ingest did with them",
                            "result",
                            r.label()));
        }
        String help = "Redis operations of the intake rules that failed (flood: let through; notice: not sent)";
        this.floodUnavailable = metrics.counter("ingest_rules_unavailable_total", help, "check", "flood");
        this.noticeMemoryUnavailable = metrics.counter("ingest_rules_unavailable_total", help, "check", "notice");
    }

    /** No rules: every update is written as received (what ingest did before the rules existed). */
    public static IntakeRules openToAll(Metrics metrics) {
        return new IntakeRules(AccessSettings.openToAll(), 0, "", null, null, metrics, Clock.systemUTC());
    }

    /**
     * The rules of {@code settings}.
     *
     * @param botId       the bot's user id ({@code TelegramSettings.botId()})
     * @param botUsername without '@' ({@code BOT_USERNAME}, else getMe's answer)
     * @param claims      remembers who was refused and who was told to slow down (Redis)
     * @param window      the flood guard's counts (Redis)
     */
    public static IntakeRules create(
            AccessSettings settings,
            long botId,
            String botUsername,
            ClaimStore claims,
            FloodWindow window,
            Metrics metrics,
            Clock clock) {
        return create(
                settings,
                botId,
                botUsername,
                claims,
                window,
                metrics,
                clock,
                URI.create(TelegramSettings.DEFAULT_API_URL));
    }

    /**
     * As {@link #create(AccessSettings, long, String, ClaimStore, FloodWindow, Metrics, Clock)}, for a bot reached
     * through {@code apiUrl} ({@code TG_API_URL}). An open bot is a WARN on Telegram's own Bot API, where anyone
     * can find it; behind any other address (devstack's emulator, a test's) it is said at INFO, naming the
     * address, so a laptop run starts without a warning that does not apply to it.
     */
    public static IntakeRules create(
            AccessSettings settings,
            long botId,
            String botUsername,
            ClaimStore claims,
            FloodWindow window,
            Metrics metrics,
            Clock clock,
            URI apiUrl) {
        IntakeRules rules = new IntakeRules(settings, botId, botUsername, claims, window, metrics, clock);
        if (settings.isOpen() && isTelegramsOwn(apiUrl)) {
            LOG.warn(
                    "{} and {} are empty: anyone who finds the bot can use it (and spend its model budget)",
                    IngestConfig.ALLOWED_USER_IDS,
                    IngestConfig.ALLOWED_CHAT_IDS);
        } else if (settings.isOpen()) {
            LOG.info(
                    "{} and {} are empty: anyone who reaches the bot through {} can use it",
                    IngestConfig.ALLOWED_USER_IDS,
                    IngestConfig.ALLOWED_CHAT_IDS,
                    apiUrl);
        } else {
            LOG.info(
                    "access limited to {} user(s) and {} chat(s)",
                    settings.allowedUsers().size(),
                    settings.allowedChats().size());
        }
        LOG.info(
                "intake rules: group mode {} (bot @{}), at most {} messages per person per minute, texts cut at {} "
                        + "characters",
                settings.groupMode(),
                botUsername.isEmpty() ? "?" : botUsername,
                settings.maxMessagesPerMinute() == 0 ? "unlimited" : settings.maxMessagesPerMinute(),
                settings.maxMessageChars());
        return rules;
    }

    private static boolean isTelegramsOwn(URI apiUrl) {
        return URI.create(TelegramSettings.DEFAULT_API_URL).getHost().equalsIgnoreCase(apiUrl.getHost());
    }

    /** Judges a new update (not a redelivery of one already handled; the caller deduplicates first). */
    Verdict judge(JsonNode update) {
        return judgeAll(List.of(update)).get(0);
    }

    /**
     * Judges new updates (not redeliveries; the caller deduplicates first), in their order. Each update is judged
     * as {@link #judge} would, but the flood guard counts every message of the batch that needs counting with one
     * call of its window (one Redis round trip per batch, not per message); the notices' "once" memory is asked per
     * notice, and notices are rare.
     */
    List<Verdict> judgeAll(List<JsonNode> updates) {
        Verdict[] verdicts = new Verdict[updates.size()];
        List<Integer> counted = new ArrayList<>();
        List<FloodWindow.Entry> messages = new ArrayList<>();
        for (int i = 0; i < updates.size(); i++) {
            JsonNode update = updates.get(i);
            long updateId = update.path("update_id").asLong(-1);
            JsonNode message = TelegramMessages.messageOf(update);
            long chatId = UpdateRecords.chatIdOf(update);
            long userId = TelegramMessages.senderOf(update);
            try (LogContext ignored = LogContext.ofChat(chatId)) {
                if (groups.isIgnored(message)) {
                    LOG.debug(
                            "chat {}: update {} is group chatter not addressed to the bot; not written",
                            chatId,
                            updateId);
                    verdicts[i] = new Verdict(IngestResult.GROUP_IGNORED, null, null);
                } else if (!access.allows(userId, chatId)) {
                    verdicts[i] = refuse(update, message, chatId, userId, updateId);
                } else if (!message.isMissingNode() && userId != 0 && flood.isOn()) {
                    counted.add(i);
                    messages.add(new FloodWindow.Entry(userId, updateId));
                } else {
                    verdicts[i] = sized(update, message, chatId, updateId);
                }
            }
        }
        List<FloodGuard.Check> checks = floodChecks(messages);
        for (int j = 0; j < counted.size(); j++) {
            int i = counted.get(j);
            JsonNode update = updates.get(i);
            JsonNode message = TelegramMessages.messageOf(update);
            long chatId = UpdateRecords.chatIdOf(update);
            long updateId = messages.get(j).updateId();
            long userId = messages.get(j).userId();
            try (LogContext ignored = LogContext.ofChat(chatId)) {
                FloodGuard.Check check = checks == null ? null : checks.get(j);
                if (check != null && check.excess()) {
                    ReplyPart candidate = notice(chatId, message, updateId, "flood", settings.floodNoticeText());
                    ReplyPart notice = sendOnce(
                                    "flood-notice:" + userId + ":" + check.window(),
                                    candidate,
                                    FloodGuard.WINDOW.multipliedBy(2))
                            ? candidate
                            : null;
                    LOG.info(
                            "chat {}: update {} from user {} is over {} messages per minute; not written{}",
                            chatId,
                            updateId,
                            userId,
                            settings.maxMessagesPerMinute(),
                            notice != null ? ", notice " + notice.replyId() + " sent" : "");
                    verdicts[i] = new Verdict(IngestResult.FLOOD, null, notice);
                } else {
                    verdicts[i] = sized(update, message, chatId, updateId);
                }
            }
        }
        return List.of(verdicts);
    }

    private Verdict refuse(JsonNode update, JsonNode message, long chatId, long userId, long updateId) {
        ReplyPart refusal = null;
        if (!message.isMissingNode()) {
            ReplyPart candidate = notice(chatId, message, updateId, "access-denied", settings.deniedText());
            if (sendOnce("refused:" + (userId != 0 ? userId : chatId), candidate, REFUSAL_MEMORY)) {
                refusal = candidate;
            }
        }
        LOG.info(
                "chat {}: update {} from user {} who is not allowed; not written{}",
                chatId,
                updateId,
                userId,
                refusal != null ? ", refusal " + refusal.replyId() + " sent" : "");
        return new Verdict(IngestResult.DENIED, null, refusal);
    }

    /** The last rule, the size cap: written as received, or cut with a notice. */
    private Verdict sized(JsonNode update, JsonNode message, long chatId, long updateId) {
        Optional<JsonNode> cut = sizeCap.cut(update);
        if (cut.isPresent()) {
            LOG.info(
                    "chat {}: update {} is longer than {} characters; written cut, the person is told",
                    chatId,
                    updateId,
                    sizeCap.maxChars());
            return new Verdict(
                    IngestResult.TOO_LONG,
                    cut.get(),
                    notice(chatId, message, updateId, "too-long", settings.tooLongNotice()));
        }
        return new Verdict(IngestResult.WRITTEN, update, null);
    }

    /** The flood guard's judgement of every message counted; null (each let through, and counted) when unavailable. */
    private List<FloodGuard.Check> floodChecks(List<FloodWindow.Entry> messages) {
        if (messages.isEmpty()) {
            return List.of();
        }
        try {
            return flood.checkAll(messages);
        } catch (RuntimeException e) {
            floodUnavailable.add(messages.size());
            LOG.warn(
                    "flood guard unavailable ({}); letting {} update(s) through unchecked, {} to {}",
                    e.toString(),
                    messages.size(),
                    messages.get(0).updateId(),
                    messages.get(messages.size() - 1).updateId());
            return null;
        }
    }

    private boolean sendOnce(String key, ReplyPart notice, Duration remember) {
        if (once == null) {
            return false;
        }
        try {
            return once.shouldSend(keyPrefix + key, notice.replyId(), remember);
        } catch (RuntimeException e) {
            noticeMemoryUnavailable.increment();
            LOG.warn(
                    "cannot tell whether {} was already sent ({}); staying silent rather than repeating it",
                    notice.replyId(),
                    e.toString());
            return false;
        }
    }

    /** One final part answering {@code message}; ids from the chat, message and update, like the chunker's replies. */
    private ReplyPart notice(long chatId, JsonNode message, long updateId, String what, String text) {
        long messageId = message.path("message_id").asLong(0);
        String thoughtId = Thought.idFor(chatId, messageId) + ":ingest-" + what + ":" + updateId;
        return new ReplyPart(
                ReplyPart.SCHEMA_VERSION,
                ReplyPart.replyIdFor(thoughtId),
                thoughtId,
                chatId,
                messageId,
                0,
                true,
                text,
                clock.millis());
    }

    /** Counts an update's fate; called once Kafka has what the verdict said to write. */
    void count(IngestResult result) {
        results.get(result).increment();
    }

    /** Updates counted with {@code result} so far. */
    public long counted(IngestResult result) {
        return results.get(result).count();
    }
}
