package dev.thoughtstream.ops.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReplayHtmlTest {

    @Test
    void theReportIsSelfContainedAndEscapesEveryRecordedText() {
        String html = ReplayHtml.render(Reports.of(5));

        // Nothing to load and nothing to run
        assertFalse(html.contains("<script"), html);
        assertFalse(html.contains("<link"), html);
        assertFalse(html.contains("<img"), html);
        assertFalse(html.contains("src=\"") || html.contains("href="), html);
        assertFalse(html.contains("http://") || html.contains("https://"), html);
        // Every text from the records shown as text
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"), html);
        assertTrue(html.contains("before &lt;img src=x onerror=alert(1)&gt;"), html);
        assertTrue(html.contains("old &lt;one&gt; 0"), html);
        assertTrue(html.contains("http_429: rate limited &lt;/td&gt;"), html);
        assertTrue(html.contains("Be &lt;brief&gt;."), html);
        assertEquals(5, html.split("<tr class=\"thought\"", -1).length - 1);
    }

    @Test
    void theSameReportGivesTheSameBytes() {
        assertEquals(ReplayHtml.render(Reports.of(7)), ReplayHtml.render(Reports.of(7)));
    }

    @Test
    void theSummaryCountsAnsweredFailedLatencyAndTokens() {
        ReplayReport report = Reports.of(6);

        ReplayReport.Summary replay = report.replay();
        ReplayReport.Summary original = report.original();

        // rows 2 and 5 failed; the others took 100, 110, 130, 140 ms and 27 tokens each
        assertEquals(6, replay.thoughts());
        assertEquals(4, replay.answered());
        assertEquals(Optional.of(2), replay.failures());
        assertEquals(Optional.of(120L), replay.meanLatencyMs());
        assertEquals(Optional.of(140L), replay.p95LatencyMs());
        assertEquals(Optional.of(4 * 27L), replay.tokens());
        // row 3 has no original reply; the others were complete 800 ms after their thought closed
        assertEquals(5, original.answered());
        assertEquals(Optional.of(800L), original.meanLatencyMs());
        assertEquals(Optional.empty(), original.tokens());
    }

    @Test
    void p95IsTheNearestRank() {
        assertEquals(
                Optional.of(95L),
                ReplayReport.p95(
                        java.util.stream.LongStream.rangeClosed(1, 100).boxed().toList()));
        assertEquals(Optional.of(7L), ReplayReport.p95(List.of(7L)));
        assertEquals(Optional.empty(), ReplayReport.p95(List.of()));
    }

    @Test
    void anEmptyWindowSaysSo() {
        ReplayReport empty = new ReplayReport(Reports.of(1).setup(), List.of());

        String html = ReplayHtml.render(empty);

        assertTrue(html.contains("No thoughts in the window."), html);
    }
}
