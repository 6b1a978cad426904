package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Item 4: a newer message while a multi-part reply is still being typed. With typing delays on, each chat's
 * first part goes out after its typing delay and the next parts wait in the emitter's lane; the person then
 * writes again. Measured: from the newer message (its injection, and its ingestion into the updates topic) to
 * the moment the emitter reported the older reply's remaining parts DROPPED_STALE.
 */
final class StaleDropScenario {
    static final long FIRST_CHAT = 2_000_001L;

    /** Everything item 4 prints. */
    record Result(
            Summary fromInjection,
            Summary fromIngestion,
            Summary toIngestion,
            int chats,
            int replies,
            int partsDropped,
            int partsSentAfterNewer,
            int notDropped) {}

    private StaleDropScenario() {}

    static Result run(PipelineStack stack, String bootstrap, E2eOptions o, PrintStream out)
            throws InterruptedException {
        TelegramEmulator emulator = stack.emulator();
        List<Long> chats = new ArrayList<>();
        for (int i = 0; i < o.staleChats(); i++) {
            chats.add(FIRST_CHAT + i);
        }
        out.printf(
                "  %d chats; typing delay %d ms per part; each chat writes again as soon as its first part "
                        + "arrived%n",
                chats.size(), o.staleTypingMs());
        Map<Long, Integer> firstMessage = new HashMap<>();
        for (long chat : chats) {
            firstMessage.put(
                    chat,
                    emulator.injectMessage(chat, "Tell me something long about chat " + chat + ", please.")
                            .messageId());
        }
        // The newer message goes out as soon as the chat shows the first bot message; it is measured from its
        // own injection, so how quickly this loop notices does not enter the figure.
        Map<Long, Integer> newer = new HashMap<>();
        Duration timeout = Duration.ofMillis(o.gapMs() + 4 * o.staleTypingMs() + 60_000);
        boolean allNewer = Poll.until(timeout, Duration.ofMillis(5), () -> {
            for (long chat : chats) {
                if (!newer.containsKey(chat) && !emulator.botTexts(chat).isEmpty()) {
                    UserMessage m = emulator.injectMessage(chat, "Actually, never mind that. New topic.");
                    newer.put(chat, m.messageId());
                }
            }
            return newer.size() == chats.size();
        });
        if (!allNewer) {
            out.printf("  note: only %d of %d chats got a first part in time%n", newer.size(), chats.size());
        }
        // Every part of every older reply must have an outcome (dropped, or sent when it was already on the wire).
        boolean settled = Poll.until(timeout, Duration.ofMillis(500), () -> {
            PipelineRecords r = new PipelineRecords(bootstrap, stack.topics());
            return newer.keySet().stream().allMatch(chat -> olderReplySettled(r, chat, firstMessage.get(chat)));
        });
        if (!settled) {
            out.println("  note: not every older reply had an outcome for each part before the timeout");
        }
        PipelineRecords records = new PipelineRecords(bootstrap, stack.topics());
        Transcripts transcripts = new Transcripts(emulator, chats);
        List<Double> fromInjection = new ArrayList<>();
        List<Double> fromIngestion = new ArrayList<>();
        List<Double> toIngestion = new ArrayList<>();
        int replies = 0;
        int partsDropped = 0;
        int sentAfter = 0;
        int notDropped = 0;
        for (var e : newer.entrySet()) {
            long chat = e.getKey();
            String thoughtId = Thought.idFor(chat, firstMessage.get(chat));
            long injectedAt = transcripts.userAt(chat, e.getValue()).orElseThrow();
            Optional<Long> ingestedAt = records.ingestedAt(chat, e.getValue());
            List<Delivery> drops = records.deliveries(thoughtId).stream()
                    .filter(d -> d.outcome() == Delivery.Outcome.DROPPED_STALE)
                    .toList();
            sentAfter += (int) records.deliveries(thoughtId).stream()
                    .filter(d -> d.outcome() == Delivery.Outcome.SENT && d.telegramMessageId() != null)
                    .filter(d -> transcripts.botAt(chat, d.telegramMessageId()).orElse(0L) > injectedAt)
                    .count();
            if (drops.isEmpty()) {
                notDropped++;
                continue;
            }
            replies++;
            partsDropped += drops.size();
            long allDroppedAt = drops.stream().mapToLong(Delivery::atMs).max().orElseThrow();
            fromInjection.add((double) (allDroppedAt - injectedAt));
            ingestedAt.ifPresent(t -> fromIngestion.add((double) (allDroppedAt - t)));
            ingestedAt.ifPresent(t -> toIngestion.add((double) (t - injectedAt)));
        }
        return new Result(
                Summary.of(fromInjection),
                Summary.of(fromIngestion),
                Summary.of(toIngestion),
                chats.size(),
                replies,
                partsDropped,
                sentAfter,
                notDropped);
    }

    private static boolean olderReplySettled(PipelineRecords r, long chat, int firstMessageId) {
        String thoughtId = Thought.idFor(chat, firstMessageId);
        List<ReplyPart> parts = r.parts(thoughtId);
        boolean complete = parts.stream().anyMatch(ReplyPart::last);
        return complete
                && parts.stream().allMatch(p -> r.outcome(thoughtId, p.seq()).isPresent());
    }
}
