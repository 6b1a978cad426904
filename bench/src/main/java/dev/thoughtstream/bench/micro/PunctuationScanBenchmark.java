package dev.thoughtstream.bench.micro;

import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.chunker.DeadlineKey;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.thought.BufferedMessage;
import dev.thoughtstream.chunker.thought.OpenThought;
import dev.thoughtstream.chunker.thought.ThoughtBufferProcessor;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.Thought;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.processor.Punctuator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The chunker's thought punctuation (every {@code CHUNK_PUNCTUATE_INTERVAL_MS}, 50 ms by default) over a task
 * holding {@code openThoughts} open thoughts, {@code due} of which are due. It runs the real
 * {@link ThoughtBufferProcessor}: the punctuator it schedules in {@code init} is invoked, so the measured code is its
 * range scan of the {@link DeadlineKey} index up to now, and for each due thought the emit (context snapshot,
 * forward, context write, index and open-thought deletes). Stores: see {@link ChunkerStores}.
 *
 * <ul>
 *   <li>{@code due = 0}: the common tick, nothing to do; what it costs with 100,000 open thoughts shows that the
 *       scan does not visit the chats that are not due.</li>
 *   <li>{@code due = 100}: a burst of 100 thoughts due in one tick, each chat with a 100-message context. Before
 *       each invocation (not measured) the 100 thoughts, their index entries and contexts are put back.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PunctuationScanBenchmark {
    static final long NOW = 1_760_000_000_000L;
    private static final long FIRST_CHAT = 10_000_000L;
    private static final long DUE_CHAT = -1_000_000_000L; // groups have negative ids; the key encoding handles both

    @Param({"100000"})
    public int openThoughts;

    @Param({"0", "100"})
    public int due;

    @Param({"rocksdb", "memory"})
    public String store;

    ChunkerStores<Long, Object> stores;
    private ThoughtBufferProcessor processor;
    private Punctuator punctuator;
    private final List<OpenThought> dueThoughts = new ArrayList<>();
    private final List<ChatContext> dueContexts = new ArrayList<>();

    @Setup(Level.Trial)
    public void setUp() {
        stores = new ChunkerStores<>(ChunkerStores.Kind.parse(store));
        ChunkerConfig config = ChunkerConfig.from(Config.of(Map.of()));
        processor = new ThoughtBufferProcessor(config);
        processor.init(stores.context());
        punctuator = stores.context().scheduledPunctuators().get(0).getPunctuator();
        stores.context().setCurrentSystemTimeMs(NOW);
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < openThoughts - due; i++) {
            // Deadlines spread over the next 20 s (the max wait), none due yet.
            put(openThought(random, FIRST_CHAT + i, NOW + 1 + (i % 20_000)));
        }
        for (int i = 0; i < due; i++) {
            long chatId = DUE_CHAT - i;
            dueThoughts.add(openThought(random, chatId, NOW - (i % 50)));
            dueContexts.add(new ChatContext(Fixtures.conversation(random, 100, 6 * 3_600_000L, NOW - 60_000), 1000));
        }
        restoreDueThoughts();
    }

    private static OpenThought openThought(SplittableRandom random, long chatId, long deadlineMs) {
        int count = 1 + random.nextInt(3);
        List<BufferedMessage> messages = new ArrayList<>(count);
        for (int m = 0; m < count; m++) {
            long at = deadlineMs - 4000 + m * 700L;
            messages.add(new BufferedMessage(1001 + m, Fixtures.userText(random), at, at, chatId, "Ann", null, null));
        }
        return new OpenThought(
                chatId, messages, messages.get(0).receivedAtMs(), deadlineMs, Thought.idFor(chatId, 1001));
    }

    private void put(OpenThought thought) {
        stores.openThoughts().put(thought.chatId(), thought);
        stores.deadlines().put(new DeadlineKey(thought.deadlineMs(), thought.chatId()), thought.chatId());
    }

    /** Puts the due thoughts (and their contexts) back as they were before a punctuation closed them. */
    @Setup(Level.Invocation)
    public void restoreDueThoughts() {
        for (int i = 0; i < dueThoughts.size(); i++) {
            put(dueThoughts.get(i));
            stores.contexts().put(dueThoughts.get(i).chatId(), dueContexts.get(i));
        }
        stores.context().resetForwards();
    }

    @Benchmark
    public void punctuate() {
        punctuator.punctuate(NOW);
    }

    /** What the last punctuation sent to the thoughts topic (for the smoke test). */
    int forwarded() {
        return stores.context().forwarded().size();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        processor.close();
        stores.close();
    }
}
