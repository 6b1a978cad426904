package dev.thoughtstream.ops.replay;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.ops.Text;
import java.util.List;
import java.util.Optional;

/**
 * The replay's report as one self-contained HTML page: inline CSS, no scripts, no fonts, images or links to load, so
 * it opens the same from a mail attachment as from a disk. Every text from the records is escaped. The page depends on
 * the report only (the time in it is the report's own), so the same report gives the same bytes.
 */
public final class ReplayHtml {
    private static final String DASH = "—";

    private static final String CSS = String.join(
            "\n",
            "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#1d1d1f;"
                    + "background:#fff}",
            "h1{font-size:1.5em;margin:0 0 .5em}",
            "h2{font-size:1.15em;margin:1.5em 0 .5em}",
            "dl.setup{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}",
            "dl.setup dt{font-weight:600}",
            "dl.setup dd{margin:0}",
            "table{border-collapse:collapse;width:100%}",
            "th,td{border:1px solid #d0d0d7;padding:.4em .6em;vertical-align:top;text-align:left}",
            "thead th{background:#f2f2f6}",
            "table.summary{width:auto}",
            "table.summary td{text-align:right}",
            "table.thoughts td{width:33%}",
            ".meta{color:#5f5f6b;font-size:.9em}",
            ".text{white-space:pre-wrap;overflow-wrap:anywhere}",
            "ol.parts,ol.said{margin:.3em 0;padding-left:1.4em}",
            "li.part{margin:.2em 0}",
            ".failed{background:#fff1f0}",
            ".none{color:#8a8a95;font-style:italic}",
            "details{margin-top:.4em}",
            "pre.prompt{white-space:pre-wrap;margin:.3em 0;padding:.5em;background:#f7f7fa}");

    private ReplayHtml() {}

    public static String render(ReplayReport report) {
        StringBuilder h = new StringBuilder(16_384);
        ReplayReport.Setup s = report.setup();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>thoughtstream replay: ")
                .append(esc(s.provider() + " " + s.model()))
                .append("</title>\n<style>\n")
                .append(CSS)
                .append("\n</style>\n</head>\n<body>\n");
        h.append("<h1>Replay</h1>\n<dl class=\"setup\">\n");
        definition(h, "Window", s.window());
        definition(h, "Provider", s.provider());
        definition(h, "Model", s.model());
        definition(h, "Prompt", s.promptLabel());
        definition(h, "Written to", s.toTopic().orElse("nowhere (report only)"));
        definition(h, "Generated", s.generatedAt().toString());
        h.append("</dl>\n<details><summary>System prompt</summary><pre class=\"prompt\">")
                .append(esc(s.prompt()))
                .append("</pre></details>\n");
        summary(h, report);
        thoughts(h, report.rows());
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void definition(StringBuilder h, String term, String value) {
        h.append("<dt>")
                .append(esc(term))
                .append("</dt><dd>")
                .append(esc(value))
                .append("</dd>\n");
    }

    private static void summary(StringBuilder h, ReplayReport report) {
        ReplayReport.Summary o = report.original();
        ReplayReport.Summary r = report.replay();
        h.append("<h2>Summary</h2>\n<table class=\"summary\">\n")
                .append(
                        "<thead><tr><th></th><th scope=\"col\">Original</th><th scope=\"col\">Replay</th></tr></thead>\n")
                .append("<tbody>\n");
        summaryRow(h, "thoughts", "Thoughts", Integer.toString(o.thoughts()), Integer.toString(r.thoughts()));
        summaryRow(h, "answered", "Answered", Integer.toString(o.answered()), Integer.toString(r.answered()));
        summaryRow(
                h,
                "failures",
                "Failures",
                o.failures().map(String::valueOf).orElse(DASH),
                r.failures().map(String::valueOf).orElse(DASH));
        summaryRow(h, "mean-latency", "Mean latency", ms(o.meanLatencyMs()), ms(r.meanLatencyMs()));
        summaryRow(h, "p95-latency", "p95 latency", ms(o.p95LatencyMs()), ms(r.p95LatencyMs()));
        summaryRow(
                h,
                "tokens",
                "Tokens",
                o.tokens().map(String::valueOf).orElse(DASH),
                r.tokens().map(String::valueOf).orElse(DASH));
        h.append("</tbody>\n</table>\n")
                .append("<p class=\"meta\">Original latency: from the thought's close to its reply's last part. ")
                .append("Replay latency: from the start of the new generation to its end. ")
                .append("Latencies and tokens count the answered thoughts only.</p>\n");
    }

    private static void summaryRow(StringBuilder h, String id, String label, String original, String replay) {
        h.append("<tr class=\"")
                .append(id)
                .append("\"><th scope=\"row\">")
                .append(esc(label))
                .append("</th><td>")
                .append(esc(original))
                .append("</td><td>")
                .append(esc(replay))
                .append("</td></tr>\n");
    }

    private static void thoughts(StringBuilder h, List<ReplayReport.Row> rows) {
        h.append("<h2>Thoughts</h2>\n");
        if (rows.isEmpty()) {
            h.append("<p class=\"none\">No thoughts in the window.</p>\n");
            return;
        }
        h.append("<table class=\"thoughts\">\n")
                .append("<thead><tr><th scope=\"col\">Thought</th><th scope=\"col\">Original reply</th>")
                .append("<th scope=\"col\">Replay</th></tr></thead>\n<tbody>\n");
        int n = 0;
        for (ReplayReport.Row row : rows) {
            n++;
            Thought t = row.recorded().thought();
            NewReply reply = row.replay();
            h.append("<tr class=\"thought\" id=\"thought-")
                    .append(n)
                    .append("\" data-thought-id=\"")
                    .append(esc(t.thoughtId()))
                    .append("\">\n<td>\n<div class=\"meta\">chat ")
                    .append(t.chatId())
                    .append(" · ")
                    .append(esc(Text.time(t.closedAtMs())))
                    .append(" · thought ")
                    .append(esc(t.thoughtId()))
                    .append("</div>\n<ol class=\"said\">\n");
            for (ThoughtMessage m : t.messages()) {
                h.append("<li class=\"text\">")
                        .append(esc(m.text()))
                        .append(
                                m.attachment() == null
                                        ? ""
                                        : " <span class=\"meta\">(" + esc(m.attachment()) + ")</span>")
                        .append("</li>\n");
            }
            h.append("</ol>\n");
            if (!t.context().isEmpty()) {
                h.append("<details><summary>Context: ")
                        .append(t.context().size())
                        .append(t.context().size() == 1 ? " turn" : " turns")
                        .append("</summary>\n<ol class=\"said\">\n");
                for (ContextMessage c : t.context()) {
                    h.append("<li class=\"text\"><span class=\"meta\">")
                            .append(c.role() == ContextMessage.Role.USER ? "person" : "bot")
                            .append(":</span> ")
                            .append(esc(c.text()))
                            .append("</li>\n");
                }
                h.append("</ol>\n</details>\n");
            }
            h.append("</td>\n<td class=\"reply original\">\n");
            List<ReplyPart> original = row.recorded().original();
            if (original.isEmpty()) {
                h.append("<p class=\"none\">No reply recorded.</p>\n");
            } else {
                parts(h, original);
                h.append("<div class=\"meta\">")
                        .append(original.size())
                        .append(original.size() == 1 ? " part" : " parts")
                        .append(original.get(original.size() - 1).last() ? "" : " (no last part)")
                        .append(" · first part ")
                        .append(ms(row.originalFirstPartMs()))
                        .append(" · latency ")
                        .append(ms(row.originalLatencyMs()))
                        .append(" · tokens ")
                        .append(DASH)
                        .append("</div>\n");
            }
            h.append("</td>\n<td class=\"reply new")
                    .append(reply.failed() ? " failed" : "")
                    .append("\">\n");
            if (reply.parts().isEmpty()) {
                h.append("<p class=\"none\">No parts.</p>\n");
            } else {
                parts(h, reply.parts());
            }
            h.append("<div class=\"meta\">")
                    .append(esc(reply.outcome()))
                    .append(" · ")
                    .append(reply.parts().size())
                    .append(reply.parts().size() == 1 ? " part" : " parts")
                    .append(" · first part ")
                    .append(ms(reply.firstPartMs()))
                    .append(" · latency ")
                    .append(ms(Optional.of(reply.latencyMs())))
                    .append(" · tokens ")
                    .append(tokens(reply))
                    .append("</div>\n");
            reply.error()
                    .ifPresent(e ->
                            h.append("<div class=\"meta text\">").append(esc(e)).append("</div>\n"));
            h.append("</td>\n</tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    private static void parts(StringBuilder h, List<ReplyPart> parts) {
        h.append("<ol class=\"parts\">\n");
        for (ReplyPart p : parts) {
            h.append("<li class=\"part text\">").append(esc(p.text())).append("</li>\n");
        }
        h.append("</ol>\n");
    }

    private static String tokens(NewReply reply) {
        if (reply.totalTokens().isEmpty()) {
            return DASH;
        }
        return reply.totalTokens().get() + " ("
                + reply.inputTokens().map(String::valueOf).orElse("?") + " in, "
                + reply.outputTokens().map(String::valueOf).orElse("?") + " out)";
    }

    private static String ms(Optional<Long> millis) {
        return millis.map(Text::duration).orElse(DASH);
    }

    /** Text as HTML element content or attribute value: the five characters with a meaning in HTML escaped. */
    public static String esc(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
