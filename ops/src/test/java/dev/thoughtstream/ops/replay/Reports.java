package dev.thoughtstream.ops.replay;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reports made up for the writer's tests: thoughts with awkward text, original replies and new ones. */
final class Reports {
    static final long T0 = Instant.parse("2026-03-01T10:00:00Z").toEpochMilli();

    private Reports() {}

    /** {@code n} thoughts; every third new reply failed, every fourth thought has no original reply. */
    static ReplayReport of(int n) {
        List<ReplayReport.Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long chat = 40 + i % 3;
            long closed = T0 + i * 1_000L;
            Thought t = new Thought(
                    Thought.SCHEMA_VERSION,
                    Thought.idFor(chat, 100 + i),
                    chat,
                    List.of(
                            new ThoughtMessage(
                                    100 + i, "message " + i + " <script>alert('x')</script> & \"q\"", closed),
                            new ThoughtMessage(101 + i, "second line\nwith a break", closed)),
                    100 + i,
                    101 + i,
                    closed - 2_000,
                    closed,
                    List.of(new ContextMessage(
                            ContextMessage.Role.ASSISTANT, "before <img src=x onerror=alert(1)>", closed)));
            String replyId = ReplyPart.replyIdFor(t.thoughtId());
            List<ReplyPart> original = i % 4 == 3
                    ? List.of()
                    : List.of(
                            new ReplyPart(
                                    1, replyId, t.thoughtId(), chat, 101 + i, 0, false, "old <one> " + i, closed + 300),
                            new ReplyPart(
                                    1, replyId, t.thoughtId(), chat, 101 + i, 1, true, "old two " + i, closed + 800));
            NewReply reply = i % 3 == 2
                    ? new NewReply(
                            "FAILED",
                            List.of(new ReplyPart(1, replyId, t.thoughtId(), chat, 101 + i, 0, true, "Sorry", closed)),
                            Optional.of(5L),
                            40L,
                            Optional.empty(),
                            Optional.empty(),
                            Optional.of("http_429: rate limited </td>"))
                    : new NewReply(
                            "ANSWERED",
                            List.of(
                                    new ReplyPart(
                                            1,
                                            replyId,
                                            t.thoughtId(),
                                            chat,
                                            101 + i,
                                            0,
                                            false,
                                            "new & one " + i,
                                            closed),
                                    new ReplyPart(
                                            1, replyId, t.thoughtId(), chat, 101 + i, 1, true, "new two " + i, closed)),
                            Optional.of(10L + i),
                            100L + 10 * i,
                            Optional.of(20L),
                            Optional.of(7L),
                            Optional.empty());
            rows.add(new ReplayReport.Row(new RecordedThought(t, original), reply));
        }
        return new ReplayReport(
                new ReplayReport.Setup(
                        "scripted",
                        "scripted",
                        "Be <brief>.",
                        "file prompt.txt",
                        "2026-03-01T09:00:00Z … its end, every chat",
                        Instant.parse("2026-03-01T12:00:00Z"),
                        Optional.of("replay.try.replies")),
                rows);
    }
}
