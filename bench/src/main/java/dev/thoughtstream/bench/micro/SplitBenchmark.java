package dev.thoughtstream.bench.micro;

import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.emitter.telegram.TelegramText;
import dev.thoughtstream.llm.generate.PartSplitter;
import dev.thoughtstream.llm.generate.StreamingPartSplitter;
import java.util.ArrayList;
import java.util.List;
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
 * Part splitting, both places it happens: llm-processor's {@link PartSplitter} (an answer into bubbles at blank
 * lines, long paragraphs at sentence ends) and its token-by-token twin {@link StreamingPartSplitter} (fed deltas of
 * about four characters, as a streaming model sends them), and the emitter's {@link TelegramText#split} (a part
 * into messages of at most 4096 characters). {@code realistic} is a ~900-character answer of a few paragraphs;
 * {@code long10k} is 10,000 characters with some paragraphs longer than a Telegram message.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SplitBenchmark {
    @Param({"realistic", "long10k"})
    public String text;

    String answer;
    List<String> deltas;
    private PartSplitter splitter;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(11);
        answer = switch (text) {
            case "realistic" -> Fixtures.answer(random, 900);
            case "long10k" -> Fixtures.answer(random, 10_000);
            default -> throw new IllegalArgumentException("unknown text " + text);
        };
        splitter = new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS);
        deltas = new ArrayList<>();
        for (int i = 0; i < answer.length(); i += 4) {
            deltas.add(answer.substring(i, Math.min(answer.length(), i + 4)));
        }
    }

    @Benchmark
    public List<String> partSplitter() {
        return splitter.split(answer);
    }

    @Benchmark
    public int streamingPartSplitter() {
        StreamingPartSplitter streaming = new StreamingPartSplitter(TelegramLimits.MAX_MESSAGE_CHARS);
        int parts = 0;
        for (String delta : deltas) {
            parts += streaming.feed(delta).size();
        }
        return parts + streaming.finish().size();
    }

    @Benchmark
    public List<String> telegramTextSplit() {
        return TelegramText.split(answer, TelegramLimits.MAX_MESSAGE_CHARS);
    }
}
