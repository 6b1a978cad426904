package dev.thoughtstream.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.llm.model.ScriptedAnswers;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.browser.HeadlessChromium;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.Rectangle;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * devstack's web chat as a person uses it: in headless Chromium (Debian's chromium and chromium-driver, driven by
 * Selenium), against devstack with its own broker, Redis, emulator and the scripted model. Skipped, saying so, only
 * where no browser is installed. Screenshots go to {@code target/screenshots/} for a person to look at.
 */
class WebChatBrowserTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");
    /** A phone's width in CSS pixels (an iPhone 12 to 15). */
    private static final int PHONE_WIDTH = 390;

    private static HeadlessChromium chromium;
    private static DevStack stack;
    private static String webChat;

    @TempDir
    static Path dataDir;

    private ChromeDriver browser;

    @BeforeAll
    static void startDevstack() {
        Optional<HeadlessChromium> found = HeadlessChromium.find();
        Assumptions.assumeTrue(found.isPresent(), HeadlessChromium.whyMissing());
        chromium = found.get();
        stack = DevStack.start(Config.of(Map.of(
                "DEVSTACK_DATA_DIR", dataDir.toString(),
                "DEVSTACK_KAFKA_PORT", "0",
                "EMULATOR_PORT", "0",
                "HTTP_PORT", "0",
                "CHUNK_GAP_MS", "300",
                "SCRIPTED_LATENCY_MS", "0",
                "SCRIPTED_TOKENS_PER_SECOND", "0",
                // Long enough for a person (and the page's 300 ms poll) to see "typing…" before each bubble.
                "TYPING_MIN_MS", "1500",
                "TYPING_MAX_MS", "1500",
                "INGEST_POLL_TIMEOUT_S", "5")));
        webChat = stack.webChatUrl().orElseThrow();
    }

    @AfterAll
    static void stopDevstack() {
        if (stack != null) {
            stack.close();
        }
    }

    @BeforeEach
    void openBrowser() {
        browser = chromium.start("--window-size=1280,900");
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void aPersonOpensAChatSendsTwoMessagesSeesTypingAndTheBotsBubblesAndTheConsoleStaysClean() {
        // Given the web chat opened in a browser, and a chat opened by its id and the person's name
        browser.get(webChat);
        assertEquals("thoughtstream · Telegram emulator", browser.getTitle());
        openChat("5151", "Ann");

        // When the person sends a message, the bot is seen typing, then answers in the scripted model's bubbles
        String first = "Hello from a real browser, how are you today?";
        send(first);
        awaitTyping();
        List<String> answer = paragraphs(first);
        awaitBotBubbles(answer);
        awaitNotTyping();

        // And again for a second message
        String second = "Tell me more about the weather in Lisbon";
        send(second);
        awaitTyping();
        List<String> both =
                Stream.concat(answer.stream(), paragraphs(second).stream()).toList();
        awaitBotBubbles(both);
        assertEquals(List.of(first, second), texts(".bubble.user"));

        // Then the chat list counts the chat's messages, not the bot's typing actions
        int messages = 2 + both.size();
        TelegramEmulator emulator = stack.emulator().orElseThrow();
        assertTrue(emulator.transcript(5151).size() > messages, "the transcript also holds the typing actions");
        Await.until(
                "the chat list to show " + messages + " messages",
                TIMEOUT,
                () -> activeChatLine().contains("5151 · private · " + messages + " messages"));

        // And the page is pictured for a person, and the browser's console has no warnings or errors
        HeadlessChromium.screenshot(browser, SCREENSHOTS.resolve("webchat.png"));
        assertTrue(Files.isRegularFile(SCREENSHOTS.resolve("webchat.png")));
        assertEquals(List.of(), HeadlessChromium.consoleProblems(browser));
    }

    @Test
    void onAPhoneTheMessageBoxTakesTheWidthAndTheChatListIsADrawer() {
        // Given a phone-sized screen
        browser.executeCdpCommand(
                "Emulation.setDeviceMetricsOverride",
                Map.of("width", PHONE_WIDTH, "height", 844, "deviceScaleFactor", 2, "mobile", true));

        // When the web chat opens with no chat chosen yet, the chat list is there to pick or type one
        browser.get(webChat);
        assertEquals(PHONE_WIDTH, ((Number) browser.executeScript("return window.innerWidth")).intValue());
        Await.until("the chat list drawer to be open", TIMEOUT, () -> sidebar().getX() >= 0);
        openChat("6262", "Bo");

        // Then the drawer slides away and the message box and its button take the width of the screen
        Await.until(
                "the chat list drawer to close",
                TIMEOUT,
                () -> sidebar().getX() + sidebar().getWidth() <= 0);
        Rectangle box = browser.findElement(By.id("text")).getRect();
        Rectangle button = browser.findElement(By.id("send")).getRect();
        assertTrue(box.getWidth() >= 0.6 * PHONE_WIDTH, "the message box is " + box.getWidth() + " px wide");
        assertTrue(button.getX() + button.getWidth() <= PHONE_WIDTH, "the send button is on the screen: " + button);

        // And a message typed there is answered
        String text = "Typing on a phone";
        send(text);
        awaitBotBubbles(paragraphs(text));
        HeadlessChromium.screenshot(browser, SCREENSHOTS.resolve("webchat-phone.png"));

        // And the menu button brings the chat list back, with this chat in it
        browser.findElement(By.id("menu")).click();
        Await.until(
                "the chat list drawer to open again", TIMEOUT, () -> sidebar().getX() >= 0);
        assertTrue(activeChatLine().startsWith("6262 · private"), activeChatLine());

        HeadlessChromium.screenshot(browser, SCREENSHOTS.resolve("webchat-phone-chats.png"));
        assertEquals(List.of(), HeadlessChromium.consoleProblems(browser));
    }

    private void openChat(String chatId, String name) {
        WebElement id = browser.findElement(By.id("chatId"));
        id.clear();
        id.sendKeys(chatId);
        WebElement who = browser.findElement(By.id("name"));
        who.clear();
        who.sendKeys(name);
        browser.findElement(By.id("open")).click();
        Await.until(
                "the chat to open",
                TIMEOUT,
                () -> browser.findElement(By.id("text")).isEnabled());
    }

    /** Types into the message box (clicked first, so a covered box fails here) and presses Enter, as a person does. */
    private void send(String text) {
        WebElement box = browser.findElement(By.id("text"));
        box.click();
        box.sendKeys(text, Keys.ENTER);
        Await.until(
                "'" + text + "' to show as the person's bubble",
                TIMEOUT,
                () -> texts(".bubble.user").contains(text));
    }

    private void awaitTyping() {
        Await.until(
                "\"typing…\" to show",
                TIMEOUT,
                () -> browser.findElement(By.id("typing")).getText().equals("typing…")
                        && browser.findElement(By.id("status")).getText().equals("typing…"));
    }

    private void awaitNotTyping() {
        Await.until(
                "\"typing…\" to go",
                TIMEOUT,
                () -> browser.findElement(By.id("typing")).getText().isEmpty());
    }

    private void awaitBotBubbles(List<String> expected) {
        Await.until(
                "the bot's bubbles " + expected,
                TIMEOUT,
                () -> texts(".bubble.bot").equals(expected));
    }

    /** The scripted model's answer to a message, one bubble per paragraph. */
    private static List<String> paragraphs(String message) {
        return Arrays.asList(ScriptedAnswers.answerTo(message).split("\n\n"));
    }

    private List<String> texts(String bubbles) {
        Object texts = browser.executeScript(
                "return Array.from(document.querySelectorAll(arguments[0])).map(function (e) { return e.textContent; });",
                bubbles + " .text");
        return ((List<?>) texts).stream().map(String::valueOf).toList();
    }

    /** Read in one script: the page rebuilds its chat list every few seconds, which would stale an element. */
    private String activeChatLine() {
        Object line = browser.executeScript("var small = document.querySelector('#chats li.active small');"
                + " return small ? small.textContent : '';");
        return String.valueOf(line);
    }

    private Rectangle sidebar() {
        return browser.findElement(By.id("sidebar")).getRect();
    }
}
