package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The emulator's side of a scenario: when each person's message became available to getUpdates and when each
 * bot message was sent (the emulator's clock, which is this JVM's clock, like every service's).
 */
final class Transcripts {
    private final Map<Long, Map<Long, Long>> userAt = new HashMap<>();
    private final Map<Long, Map<Long, Long>> botAt = new HashMap<>();
    final List<Long> userTimes = new ArrayList<>();
    final List<Long> botTimes = new ArrayList<>();

    Transcripts(TelegramEmulator emulator, Collection<Long> chats) {
        for (long chat : chats) {
            for (TranscriptEntry e : emulator.transcript(chat)) {
                if (!e.isMessage() || e.messageId() == null) {
                    continue;
                }
                if (e.isFromBot()) {
                    botAt.computeIfAbsent(chat, c -> new HashMap<>()).put((long) e.messageId(), e.at());
                    botTimes.add(e.at());
                } else {
                    userAt.computeIfAbsent(chat, c -> new HashMap<>()).put((long) e.messageId(), e.at());
                    userTimes.add(e.at());
                }
            }
        }
    }

    Optional<Long> userAt(long chat, long messageId) {
        return Optional.ofNullable(userAt.getOrDefault(chat, Map.of()).get(messageId));
    }

    Optional<Long> botAt(long chat, long messageId) {
        return Optional.ofNullable(botAt.getOrDefault(chat, Map.of()).get(messageId));
    }

    static long countBetween(List<Long> times, long fromMs, long toMs) {
        return times.stream().filter(t -> t >= fromMs && t < toMs).count();
    }
}
