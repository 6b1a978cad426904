package dev.thoughtstream.bench.micro;

import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.context.ContextCache;
import dev.thoughtstream.chunker.context.ContextPolicy;
import dev.thoughtstream.chunker.context.DeliveryContextProcessor;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.processor.api.Record;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Context trimming on the chunker's real write path: one SENT delivery processed by the real
 * {@link DeliveryContextProcessor} into a store of {@value #CHATS} chats whose contexts hold 100 messages over the
 * last 12 h. That is: read the context from the store (deserialize), check it does not already remember the part,
 * append and trim ({@code ChatContext.withMessage}), then {@code ContextStore.put} (retention again as of now,
 * bookkeeping, the next prune time) and write the context and move its prune-index entry (serialize). Each
 * invocation delivers a new part to the next chat, with the clock one millisecond later, so every context stays at
 * its steady state of about 100 messages. Stores: see {@link ChunkerStores}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DeliveryContextBenchmark {
    static final int CHATS = 1000;
    static final long NOW = 1_760_000_000_000L;
    private static final long FIRST_CHAT = 20_000_000L;

    @Param({"rocksdb", "memory"})
    public String store;

    /** The chunker's context cache at its default size ({@code CONTEXT_CACHE_MAX_BYTES}), or off. */
    @Param({"on", "off"})
    public String cache;

    ChunkerStores<Void, Void> stores;
    private DeliveryContextProcessor processor;
    private String[] texts;
    private long sequence;

    @Setup
    public void setUp() {
        stores = new ChunkerStores<>(ChunkerStores.Kind.parse(store));
        ChunkerConfig config = ChunkerConfig.from(Config.of(Map.of()));
        ContextPolicy policy = config.context();
        processor = new DeliveryContextProcessor(
                policy, "off".equals(cache) ? ContextCache.off() : new ContextCache(config.contextCacheMaxBytes()));
        processor.init(stores.context());
        SplittableRandom random = new SplittableRandom(9);
        for (int i = 0; i < CHATS; i++) {
            stores.contexts()
                    .put(
                            FIRST_CHAT + i,
                            new ChatContext(Fixtures.conversation(random, 100, 12 * 3_600_000L, NOW - 1000), 4242));
        }
        texts = new String[64];
        for (int i = 0; i < texts.length; i++) {
            texts[i] = Fixtures.assistantText(random);
        }
    }

    @Benchmark
    public void deliverSentPart() {
        long n = sequence++;
        long chatId = FIRST_CHAT + n % CHATS;
        long now = NOW + n;
        stores.context().setCurrentSystemTimeMs(now);
        String thoughtId = Thought.idFor(chatId, 5000 + n);
        ReplyPart part = new ReplyPart(
                ReplyPart.SCHEMA_VERSION,
                ReplyPart.replyIdFor(thoughtId),
                thoughtId,
                chatId,
                5000 + n,
                0,
                true,
                texts[(int) (n % texts.length)],
                now);
        processor.process(new Record<>(chatId, Delivery.sent(part, 90_000 + n, now), now));
    }

    /** The context of the chat the first invocation delivered to (for the smoke test). */
    ChatContext firstChatContext() {
        return stores.contexts().get(FIRST_CHAT);
    }

    @TearDown
    public void tearDown() {
        processor.close();
        stores.close();
    }
}
