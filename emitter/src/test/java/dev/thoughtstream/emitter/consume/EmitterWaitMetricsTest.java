package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.testkit.Await;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The person's whole wait for bubble 1, as the emitter measures it: from when they last wrote to the thought (the
 * time the reply's parts carry, from Telegram's date) to the reply's first message sent. On virtual time, so the
 * wait is known to the millisecond; through the real replies topic, so the part's field survives its JSON.
 */
class EmitterWaitMetricsTest {
    private static final long CHAT = 7_301;
    private static final String WAIT = Metrics.PREFIX + "emitter_first_bubble_wait_seconds";
    private static final String FIRST_PART = Metrics.PREFIX + "emitter_first_part_delay_seconds";

    private EmitterFixture fx;
    private final ManualScheduler time = new ManualScheduler();
    private final Metrics metrics = new Metrics();

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("wait");
        fx.chatOpens(CHAT);
        // typing for exactly a second before each message, on virtual time
        fx.emitter()
                .with(Map.of("TYPING_MIN_MS", "1000", "TYPING_MAX_MS", "1000", "EMITTER_CHAT_RATE_PER_S", "0"))
                .scheduler(time)
                .metrics(metrics)
                .start();
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private Timer timer(String name) {
        Timer t = metrics.registry().find(name).timer();
        assertNotNull(t, name + " is registered");
        return t;
    }

    /** Lets the next message's second of typing pass, and waits for the message. */
    private void typeAndSend(int botTexts) {
        Await.until(
                "typing " + botTexts,
                EmitterFixture.TIMEOUT,
                () -> time.pendingDelays().equals(List.of(Duration.ofSeconds(1))));
        time.advance(Duration.ofSeconds(1));
        fx.awaitBotTexts(CHAT, botTexts);
    }

    @Test
    void aThoughtsReplyRecordsTheWaitFromThePersonsLastMessageToItsFirstBubbleOnce() {
        // given a person who last wrote to their thought 3 s ago (by Telegram's date)
        long lastWritten = time.clock().millis() - 3_000;

        // when the two parts of the reply to it arrive, each typed for a second
        fx.produce(part("r-thought", 0, false, "first bubble", lastWritten));
        fx.produce(part("r-thought", 1, true, "second bubble", lastWritten));
        typeAndSend(1);
        typeAndSend(2);
        Await.until(
                "both parts reported",
                EmitterFixture.TIMEOUT,
                () -> metrics.scrape().contains("thoughtstream_emitter_parts_total{outcome=\"sent\"} 2"));

        // then the first bubble recorded one wait: the 3 s before the reply plus its second of typing; the second
        // bubble none
        Timer wait = timer(WAIT);
        assertEquals(1, wait.count());
        assertEquals(4_000, wait.totalTime(TimeUnit.MILLISECONDS), 0.001);
        assertEquals(1, timer(FIRST_PART).count(), "the produced-to-sent leg is recorded alongside");
    }

    @Test
    void aReplyWithoutTheTimeOfAThoughtRecordsNoWait() {
        // given a reply to no thought (a command's), whose part carries no time of the person's message
        fx.produce(EmitterFixture.part(CHAT, "r-command", 0, true, "help text"));

        // when it is sent
        typeAndSend(1);

        // then only the produced-to-sent leg is recorded: the whole wait is a thought's
        Await.until(
                "the produced-to-sent leg recorded",
                EmitterFixture.TIMEOUT,
                () -> timer(FIRST_PART).count() == 1);
        assertEquals(0, timer(WAIT).count());
    }

    private ReplyPart part(String replyId, int seq, boolean last, String text, long lastWrittenAtMs) {
        return new ReplyPart(
                ReplyPart.SCHEMA_VERSION,
                replyId,
                "thought-" + replyId,
                CHAT,
                1,
                seq,
                last,
                text,
                time.clock().millis(),
                lastWrittenAtMs);
    }
}
