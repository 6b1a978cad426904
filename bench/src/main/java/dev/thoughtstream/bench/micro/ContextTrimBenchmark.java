package dev.thoughtstream.bench.micro;

import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.context.ContextPolicy;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.ContextMessage;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Context trimming with the default policy (6 h window, at least 100 messages, 256 KiB byte cap, 12,000-character
 * snapshot), on a chat whose {@code messages} messages are spread over the last 12 h, so half of them are older
 * than the window:
 * <ul>
 *   <li>{@code messages = 100}: appending one makes 101, and the minimum rule drops exactly the oldest;</li>
 *   <li>{@code messages = 500}: the window rule drops the 250 older than 6 h.</li>
 * </ul>
 * {@link ChatContext#withMessage} is what every SENT delivery and (with several messages) every thought does to
 * the context; {@link ChatContext#snapshot} is what every closing thought carries (retention as of now, then the
 * newest messages within the character budget).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ContextTrimBenchmark {
    static final long NOW = 1_760_000_000_000L;
    private static final long TWELVE_HOURS_MS = 12 * 3_600_000L;

    @Param({"100", "500"})
    public int messages;

    ContextPolicy policy;
    ChatContext context;
    ContextMessage said;

    @Setup
    public void setUp() {
        policy = ChunkerConfig.from(Config.of(Map.of())).context();
        SplittableRandom random = new SplittableRandom(5);
        context = new ChatContext(Fixtures.conversation(random, messages, TWELVE_HOURS_MS, NOW - 1000), 4242);
        said = new ContextMessage(ContextMessage.Role.ASSISTANT, Fixtures.assistantText(random), NOW);
    }

    @Benchmark
    public ChatContext appendAndTrim() {
        return context.withMessage(said, NOW, policy);
    }

    @Benchmark
    public List<ContextMessage> snapshotForThought() {
        return context.snapshot(NOW, policy);
    }
}
