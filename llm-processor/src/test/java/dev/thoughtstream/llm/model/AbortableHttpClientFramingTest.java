package dev.thoughtstream.llm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.http.client.sse.DefaultServerSentEventParser;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventContext;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import java.io.ByteArrayInputStream;
import java.lang.reflect.Constructor;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The streaming client frames events itself, from lines as they arrive, instead of letting LangChain4j's parser
 * block a thread on an input stream. These properties pin that it hands the listener exactly the events LangChain4j's
 * own parsers would read from the whole body, however the bytes are cut into network buffers (lines and multi-byte
 * characters split anywhere).
 */
class AbortableHttpClientFramingTest {
    private static final int CASES = 300;

    @Test
    void serverSentEventsAreTheEventsOfLangChain4jsParserForEveryChunking() throws Exception {
        Random random = new Random(42);
        for (int i = 0; i < CASES; i++) {
            // given a random event stream in OpenAI's wire format, with every kind of line and line break
            String body = randomSse(random);

            // when it arrives cut into random chunks
            Recorded ours = feed(new DefaultServerSentEventParser(), body, random);

            // then the listener gets what the library's parser reads from the whole body, then one close
            assertEquals(parseWhole(new DefaultServerSentEventParser(), body), ours.events, () -> "body: " + body);
            assertEquals(1, ours.closes);
            assertTrue(ours.errors.isEmpty(), ours.errors::toString);
        }
    }

    @Test
    void newlineDelimitedJsonIsTheEventsOfOllamasParserForEveryChunking() throws Exception {
        Random random = new Random(7);
        ServerSentEventParser ollama = ollamaParser();
        for (int i = 0; i < CASES; i++) {
            // given random lines as Ollama streams them
            String body = randomLines(random);

            // when they arrive cut into random chunks
            Recorded ours = feed(ollama, body, random);

            // then the listener gets one event per line, as Ollama's own parser reads them
            assertEquals(parseWhole(ollama, body), ours.events, () -> "body: " + body);
            assertEquals(1, ours.closes);
        }
    }

    @Test
    void cancellingThroughTheContextEndsTheStreamWithoutFurtherEvents() throws Exception {
        // given a stream whose listener cancels through its context at the first event
        Recorded recorded = new Recorded() {
            @Override
            public void onEvent(ServerSentEvent event, ServerSentEventContext context) {
                super.onEvent(event, context);
                context.parsingHandle().cancel();
                assertTrue(context.parsingHandle().isCancelled());
            }
        };
        BodySubscriber<Void> body = AbortableHttpClient.eventBody(new DefaultServerSentEventParser(), recorded);
        Subscription subscription = new Subscription();
        body.onSubscribe(subscription);

        // when two events arrive
        body.onNext(List.of(bytes("data: one\n\ndata: two\n\n")));

        // then only the first reached the listener, and the body's subscription was cancelled
        assertEquals(List.of(new Event(null, "one")), recorded.events);
        assertTrue(subscription.cancelled);
    }

    private static Recorded feed(ServerSentEventParser parser, String body, Random random) throws Exception {
        Recorded recorded = new Recorded();
        BodySubscriber<Void> subscriber = AbortableHttpClient.eventBody(parser, recorded);
        subscriber.onSubscribe(new Subscription());
        byte[] all = body.getBytes(StandardCharsets.UTF_8);
        int at = 0;
        while (at < all.length) {
            int size = 1 + random.nextInt(Math.min(all.length - at, 1 + random.nextInt(40)));
            List<ByteBuffer> buffers = new ArrayList<>();
            // Sometimes several buffers in one delivery, as the JDK hands them over.
            int split = size > 1 && random.nextBoolean() ? 1 + random.nextInt(size - 1) : size;
            buffers.add(ByteBuffer.wrap(all, at, split).slice());
            if (split < size) {
                buffers.add(ByteBuffer.wrap(all, at + split, size - split).slice());
            }
            subscriber.onNext(buffers);
            at += size;
        }
        subscriber.onComplete();
        subscriber.getBody().toCompletableFuture().get(5, TimeUnit.SECONDS);
        return recorded;
    }

    private static List<Event> parseWhole(ServerSentEventParser parser, String body) {
        Recorded recorded = new Recorded();
        parser.parse(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), recorded);
        return recorded.events;
    }

    private static String randomSse(Random random) {
        String[] breaks = {"\n", "\r\n", "\r"};
        StringBuilder out = new StringBuilder();
        int lines = random.nextInt(30);
        for (int i = 0; i < lines; i++) {
            String line = switch (random.nextInt(8)) {
                case 0, 1, 2 -> "data: " + word(random);
                case 3 -> "data:" + word(random) + "  ";
                case 4 -> "event: " + word(random);
                case 5 -> ": keep-alive";
                case 6 -> "id: " + random.nextInt(100);
                default -> "";
            };
            out.append(line).append(breaks[random.nextInt(breaks.length)]);
        }
        if (random.nextBoolean()) {
            // A body that ends without its last line break.
            out.append("data: ").append(word(random));
        }
        return out.toString();
    }

    private static String randomLines(Random random) {
        StringBuilder out = new StringBuilder();
        int lines = random.nextInt(20);
        for (int i = 0; i < lines; i++) {
            out.append("{\"message\":{\"content\":\"").append(word(random)).append("\"},\"done\":false}\n");
        }
        if (random.nextBoolean()) {
            out.append("{\"done\":true}");
        }
        return out.toString();
    }

    private static String word(Random random) {
        String[] words = {"Hello", "wörld", "😀 smile", "[DONE]", "{\"choices\":[]}", "a b", "ünïcødé", "x"};
        return words[random.nextInt(words.length)];
    }

    private static ServerSentEventParser ollamaParser() throws Exception {
        // Package-private in LangChain4j's Ollama module; the test compares against the very parser Ollama uses.
        Constructor<?> constructor = Class.forName("dev.langchain4j.model.ollama.OllamaServerSentEventParser")
                .getDeclaredConstructor();
        constructor.setAccessible(true);
        return (ServerSentEventParser) constructor.newInstance();
    }

    private static ByteBuffer bytes(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    private record Event(String type, String data) {}

    private static class Recorded implements ServerSentEventListener {
        final List<Event> events = new ArrayList<>();
        final List<Throwable> errors = new ArrayList<>();
        int closes;

        @Override
        public void onEvent(ServerSentEvent event, ServerSentEventContext context) {
            events.add(new Event(event.event(), event.data()));
        }

        @Override
        public void onEvent(ServerSentEvent event) {
            events.add(new Event(event.event(), event.data()));
        }

        @Override
        public void onError(Throwable error) {
            errors.add(error);
        }

        @Override
        public void onClose() {
            closes++;
        }
    }

    private static final class Subscription implements Flow.Subscription {
        boolean cancelled;

        @Override
        public void request(long n) {
            // The test pushes the bytes itself.
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }
}
