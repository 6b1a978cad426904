package dev.thoughtstream.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.llm.generate.PartSplitter;
import dev.thoughtstream.llm.model.ScriptedAnswers;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The Telegram emulator's control API over HTTP (docs/testing.md): a person's stand-in that writes, reads the
 * chat's transcript and plans the Bot API's failures.
 */
public record EmulatorControl(HttpClient http, URI base) {

    /**
     * The bubbles the offline default model ({@link ScriptedAnswers}) answers {@code text} with, when it is a
     * thought of its own: the answer split the way the llm-processor splits it at Telegram's message length.
     */
    public static List<String> scriptedBubbles(String text) {
        return new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(ScriptedAnswers.answerTo(text));
    }

    /** A person named Ann writes {@code text} in chat {@code chatId}; returns the message id. */
    public int send(long chatId, String text) {
        String body = Json.mapper()
                .createObjectNode()
                .put("text", text)
                .put("firstName", "Ann")
                .toString();
        JsonNode answer = call(HttpRequest.newBuilder(base.resolve("/emulator/chats/" + chatId + "/messages"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
        return answer.get("messageId").asInt();
    }

    /** Everything that happened in the chat, in order, with the emulator's timestamps. */
    public List<TranscriptEntry> transcript(long chatId) {
        JsonNode answer = call(HttpRequest.newBuilder(base.resolve("/emulator/chats/" + chatId + "/transcript"))
                .GET());
        return List.of(Json.mapper().convertValue(answer, TranscriptEntry[].class));
    }

    /** The person's message {@code messageId}, once the emulator has it. */
    public Optional<TranscriptEntry> userMessage(long chatId, int messageId) {
        return transcript(chatId).stream()
                .filter(e -> !e.isFromBot() && e.isMessage() && Objects.equals(e.messageId(), messageId))
                .findFirst();
    }

    /** The bot's messages in the chat after the person's message {@code messageId}. */
    public List<TranscriptEntry> botMessagesAfter(long chatId, int messageId) {
        List<TranscriptEntry> after = new ArrayList<>();
        boolean seen = false;
        for (TranscriptEntry e : transcript(chatId)) {
            if (!e.isFromBot() && e.isMessage() && Objects.equals(e.messageId(), messageId)) {
                seen = true;
            } else if (seen && e.isFromBot() && e.isMessage()) {
                after.add(e);
            }
        }
        return after;
    }

    /**
     * Plans failures of the Bot API ({@code POST /emulator/faults}), e.g. {@code method}, {@code status},
     * {@code retryAfter}, {@code times}, {@code contentType}, {@code body}.
     */
    public void addFault(Map<String, Object> fault) {
        call(HttpRequest.newBuilder(base.resolve("/emulator/faults"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        Json.mapper().valueToTree(fault).toString())));
    }

    /** How many planned failures are still to come, over every fault. */
    public int faultsRemaining() {
        int remaining = 0;
        for (JsonNode fault :
                call(HttpRequest.newBuilder(base.resolve("/emulator/faults")).GET())) {
            remaining += fault.path("remaining").asInt();
        }
        return remaining;
    }

    /** The webhook the bot has set ({@code setWebhook}); empty while it polls. */
    public String webhookUrl() {
        return call(HttpRequest.newBuilder(base.resolve("/emulator/state")).GET())
                .path("webhook")
                .path("url")
                .asText("");
    }

    /** Forgets the planned failures that are still to come. */
    public void clearFaults() {
        call(HttpRequest.newBuilder(base.resolve("/emulator/faults")).DELETE());
    }

    private JsonNode call(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response =
                    http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(
                        "the emulator answered " + response.statusCode() + ": " + response.body());
            }
            return Json.mapper().readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("the emulator's control API failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling the emulator", e);
        }
    }
}
