package dev.thoughtstream.ops.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

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
        Optional<Path> chromium = executable("CHROME_BIN", "chromium", "chromium-browser", "google-chrome");
        Optional<Path> driver = executable("CHROMEDRIVER", "chromedriver");
        Assumptions.assumeTrue(
                chromium.isPresent() && driver.isPresent(),
                "browser test skipped: no chromium ("
                        + chromium.map(Path::toString).orElse("missing")
                        + ") or chromedriver (" + driver.map(Path::toString).orElse("missing")
                        + ") on the PATH; install Debian's chromium and chromium-driver");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.get().toFile());
        // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        // The driver is given explicitly, so Selenium never tries to download one.
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(driver.get().toFile())
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
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
        List<LogEntry> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue())
                .toList();
        assertEquals(List.of(), errors);
    }

    /** The first of the variable's path or the names found executable on the PATH. */
    private static Optional<Path> executable(String variable, String... names) {
        String explicit = System.getenv(variable);
        if (explicit != null && !explicit.isBlank()) {
            return Optional.of(Path.of(explicit)).filter(Files::isExecutable);
        }
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(File.pathSeparator))
                .filter(d -> !d.isBlank())
                .flatMap(d -> Stream.of(names).map(n -> Path.of(d, n)))
                .filter(Files::isExecutable)
                .findFirst();
    }
}
