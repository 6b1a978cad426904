package dev.thoughtstream.testkit.browser;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Headless Chromium for browser tests, driven by Selenium through the machine's own chromedriver: Debian's
 * {@code chromium} and {@code chromium-driver} packages (CI installs them), or the binaries {@code CHROME_BIN} and
 * {@code CHROMEDRIVER} name. Nothing is downloaded, so a test asks {@link #find()} first and skips, saying
 * {@link #whyMissing()}, where neither is installed.
 *
 * <p>The test module brings Selenium ({@code selenium-chrome-driver}, test scope): testkit only compiles against it.
 *
 * @param browser the Chromium executable
 * @param driver  the chromedriver executable
 */
public record HeadlessChromium(Path browser, Path driver) {
    private static final String BROWSER_VARIABLE = "CHROME_BIN";
    private static final String DRIVER_VARIABLE = "CHROMEDRIVER";

    /** The browser and driver the variables name, or else the first found on the {@code PATH}. */
    public static Optional<HeadlessChromium> find() {
        Optional<Path> browser = executable(BROWSER_VARIABLE, "chromium", "chromium-browser", "google-chrome");
        Optional<Path> driver = executable(DRIVER_VARIABLE, "chromedriver");
        return browser.isPresent() && driver.isPresent()
                ? Optional.of(new HeadlessChromium(browser.get(), driver.get()))
                : Optional.empty();
    }

    /** What is missing and how to install it: the message of a skipped browser test. */
    public static String whyMissing() {
        Optional<Path> browser = executable(BROWSER_VARIABLE, "chromium", "chromium-browser", "google-chrome");
        Optional<Path> driver = executable(DRIVER_VARIABLE, "chromedriver");
        return "browser test skipped: no chromium ("
                + browser.map(Path::toString).orElse("missing")
                + ") or chromedriver (" + driver.map(Path::toString).orElse("missing")
                + ") on the PATH or in " + BROWSER_VARIABLE + "/" + DRIVER_VARIABLE
                + "; install Debian's chromium and chromium-driver (.ci/run does)";
    }

    /**
     * Starts a headless browser whose console (every level) {@link #consoleProblems} reads. The caller quits it.
     *
     * @param extraArguments more Chromium switches, e.g. {@code --window-size=1280,800}
     */
    public ChromeDriver start(String... extraArguments) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browser.toFile());
        // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
        options.addArguments(extraArguments);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        // The driver is given explicitly, so Selenium never tries to download one.
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(driver.toFile())
                .usingAnyFreePort()
                .build();
        ChromeDriver chrome = new ChromeDriver(service, options);
        chrome.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        return chrome;
    }

    /**
     * The console's warnings and errors since the last call (a failed request, such as a missing favicon, is one):
     * a page that works says nothing there.
     */
    public static List<LogEntry> consoleProblems(ChromeDriver chrome) {
        return chrome.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue())
                .toList();
    }

    /** Saves what the browser shows as a PNG at {@code file} (directories created), for a person to look at. */
    public static Path screenshot(ChromeDriver chrome, Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path png = chrome.getScreenshotAs(OutputType.FILE).toPath();
            return Files.move(png, file, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save a screenshot to " + file, e);
        }
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
