package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.process.ManagedProcess;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The built distribution run as separate operating-system processes, each with the environment
 * {@code docker-compose.yml} gives its container: a Kafka broker process ({@code KafkaBrokerMain}), a
 * redis-server, the Telegram emulator ({@code thoughtstream emulator}) and the four services
 * ({@code java -jar thoughtstream.jar <service>}). A person writes through the emulator; then the emitter, the
 * chunker and the llm-processor are each killed with SIGKILL (as {@code kill -9} or {@code docker kill} does: no
 * shutdown hook, nothing flushed), restarted with the same environment and the same {@code HOSTNAME} (a restarted
 * container keeps its hostname, and {@code INSTANCE_ID} defaults to it), and the next message must be answered
 * exactly once.
 *
 * <p>The processes and their environments are {@link ComposeStack}'s: the compose file's, with only the addresses
 * and what a quick run on one host needs changed.
 *
 * <h2>Recovery, as measured here</h2>
 * For each killed service: the latency of a reply (the emulator's timestamps: from the person's message to the
 * reply's last bubble) is measured on the warm pipeline just before the kill ({@code warm}); the service is
 * killed and started again, and as soon as its {@code /health/ready} answers the next message is sent and its
 * reply latency measured ({@code after}). <b>recovery = after − warm</b>: how much longer the pipeline took
 * because that service had just come back, beyond its normal latency. The process's start-up (launch until
 * {@code /health/ready}, mostly JVM and client start) is reported beside it but not counted: a supervisor's
 * restart delay and the JVM's start are the platform's, not the pipeline's.
 *
 * <p>The bound of 5 s discriminates for the emitter and the chunker: without static membership the restarted
 * member of their classic consumer groups gets no partition until the coordinator gives up on the killed member
 * at its session timeout, 45 s by default (about 42 s of recovery were measured here before static membership;
 * with it, about 0.2 s for the emitter and 2.5 s for the chunker, which after an unclean stop under exactly-once
 * wipes its local stores and restores them from the changelogs). The llm-processor's share group hands the new
 * members partitions as soon as they join (0.5 to 2 s measured either way), so there the bound guards against a
 * regression rather than proving a mechanism.
 */
class ComposeProcessesKillNineIT {
    /** Long enough to measure a recovery that waits for a 45 s session timeout, so a slow one is reported. */
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(100);

    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(5);
    private static final long CHAT = 4242;
    private static final List<String> KILLED = List.of("emitter", "chunker", "llm-processor");

    private ComposeStack stack;

    @AfterEach
    void stopEveryProcess() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void eachServiceKilledWithSigkillComesBackWithin5sAndTheNextReplyArrivesExactlyOnce() {
        Path dist = Path.of(System.getProperty("thoughtstream.dist.dir", "target/thoughtstream"))
                .toAbsolutePath();
        Path composeFile = Path.of(System.getProperty("thoughtstream.compose.file", "../docker-compose.yml"))
                .toAbsolutePath()
                .normalize();
        Path base = Path.of(System.getProperty("thoughtstream.process.dir", "target/process-it"))
                .toAbsolutePath();
        // Given the infrastructure and the four services from the distribution, each with its compose environment
        stack = ComposeStack.start(dist, composeFile, base, Map.of());

        stack.processes().explainingFailures(() -> {
            // When a person writes, the bot answers (the first reply also waits for the groups to form)
            Conversation conversation = new Conversation(stack.emulator());
            conversation.say("Hello there, this is the first message of the test.");

            List<String> report = new ArrayList<>();
            List<String> tooSlow = new ArrayList<>();
            for (String service : KILLED) {
                // Given the warm pipeline's latency
                long warm = conversation.say("Before the " + service + " goes down: how are you today?");

                // When the service is killed with SIGKILL and its container restarted with the same environment
                ManagedProcess process = stack.service(service);
                process.kill9();
                long launched = System.nanoTime();
                process.restart();
                process.awaitReady(ComposeStack.START_TIMEOUT);
                long startupMs = (System.nanoTime() - launched) / 1_000_000;

                // Then the next message is answered, exactly once
                long after = conversation.say("The " + service + " was restarted. Tell me about the weather.");
                long recovery = after - warm;
                String line = String.format(
                        "%-13s start-up %5d ms, warm reply %5d ms, reply after restart %6d ms," + " recovery %6d ms",
                        service, startupMs, warm, after, recovery);
                report.add(line);
                System.out.println(line);
                if (recovery > RECOVERY_BOUND.toMillis()) {
                    tooSlow.add(service);
                }
            }

            // and over the whole conversation no bubble arrived twice and none is missing
            conversation.assertWholeTranscript();
            assertTrue(
                    tooSlow.isEmpty(),
                    "not working again within " + RECOVERY_BOUND.toSeconds() + " s of being ready after SIGKILL: "
                            + tooSlow + "\n" + String.join("\n", report));
        });
    }

    // ---- the person's side -------------------------------------------------------------------------------------

    /** One chat: what the person said and the bubbles each message must be answered with. */
    private static final class Conversation {
        private final EmulatorControl emulator;
        private final List<String> expected = new ArrayList<>();

        Conversation(EmulatorControl emulator) {
            this.emulator = emulator;
        }

        /**
         * Sends {@code text}, waits for its whole reply and checks it arrived exactly once so far.
         *
         * @return the reply's latency: from the message to the reply's last bubble, by the emulator's clock
         */
        long say(String text) {
            List<String> parts = EmulatorControl.scriptedBubbles(text);
            int messageId = emulator.send(CHAT, text);
            expected.add("user: " + text);
            parts.forEach(p -> expected.add("bot: " + p));
            List<TranscriptEntry> reply =
                    Await.value("the reply to '" + text + "' (" + parts.size() + " bubbles)", REPLY_TIMEOUT, () -> {
                        List<TranscriptEntry> after = emulator.botMessagesAfter(CHAT, messageId);
                        return after.size() >= parts.size() ? Optional.of(after) : Optional.empty();
                    });
            assertEquals(
                    parts,
                    reply.stream().map(TranscriptEntry::text).toList(),
                    "the reply to '" + text + "', each bubble once");
            TranscriptEntry question = emulator.userMessage(CHAT, messageId).orElseThrow();
            return reply.get(reply.size() - 1).at() - question.at();
        }

        /** Every message of the chat, in order: each person's message followed by its reply, nothing twice. */
        void assertWholeTranscript() {
            List<String> actual = emulator.transcript(CHAT).stream()
                    .filter(TranscriptEntry::isMessage)
                    .map(e -> e.from() + ": " + e.text())
                    .toList();
            assertEquals(
                    String.join("\n", expected),
                    String.join("\n", actual),
                    "the whole chat: every reply exactly once, in order");
        }
    }
}
