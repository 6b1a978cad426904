package dev.thoughtstream.ops.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.testkit.browser.HeadlessChromium;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The replay report as an operator sees it: opened in headless Chromium through chromedriver. Skipped where neither
 * binary is installed (Debian's chromium and chromium-driver packages; CI installs them).
 */
class ReplayHtmlBrowserTest {
    private static final int THOUGHTS = 12;

    private ChromeDriver browser;

    @TempDir
    Path dir;

    @BeforeEach
    void openBrowser() {
        Optional<HeadlessChromium> chromium = HeadlessChromium.find();
        Assumptions.assumeTrue(chromium.isPresent(), HeadlessChromium.whyMissing());
        browser = chromium.get().start();
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void theReportOpensShowsEveryThoughtAndLogsNoErrors() throws Exception {
        // Given a report of twelve thoughts, their texts full of markup
        Path report = dir.resolve("report.html");
        Files.writeString(report, ReplayHtml.render(Reports.of(THOUGHTS)), StandardCharsets.UTF_8);

        // When it is opened from disk
        browser.get(report.toUri().toString());

        // Then it shows every thought, each with its original and its new reply
        assertEquals("thoughtstream replay: scripted scripted", browser.getTitle());
        List<WebElement> rows = browser.findElements(By.cssSelector("table.thoughts tbody tr.thought"));
        assertEquals(THOUGHTS, rows.size());
        for (WebElement row : rows) {
            assertTrue(row.isDisplayed());
            assertEquals(3, row.findElements(By.tagName("td")).size());
        }
        // And the person's markup is text on the page, not elements
        assertTrue(
                rows.get(0).getText().contains("<script>alert('x')</script> & \"q\""),
                rows.get(0).getText());
        assertEquals(
                0, browser.findElements(By.cssSelector("body script, body img")).size());
        assertEquals(
                Integer.toString(THOUGHTS),
                browser.findElement(By.cssSelector("table.summary tr.thoughts td:last-child"))
                        .getText());
        // And the browser's console has no errors
        assertEquals(List.of(), HeadlessChromium.consoleProblems(browser));
    }
}
