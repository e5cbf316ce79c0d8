package com.scairelay.support;

import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven by its own chromedriver: nothing is downloaded (Selenium Manager
 * never runs, since both paths are given), and each browser has a fresh profile, deleted on close.
 */
public final class Browser implements AutoCloseable {
  public static final String CHROMIUM = "/usr/bin/chromium";
  public static final String CHROMEDRIVER = "/usr/bin/chromedriver";
  private static final Duration WAIT = Duration.ofSeconds(15);

  public final ChromeDriver driver;
  private final Path profile;
  private final String base;

  private Browser(String base) {
    this.base = base;
    try {
      this.profile = Files.createTempDirectory("scairelay-chromium-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,800",
        "--user-data-dir=" + profile);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER)).build();
    this.driver = new ChromeDriver(service, options);
  }

  /** A browser for pages of the node at {@code base} ({@code http://127.0.0.1:<port>}). */
  public static Browser open(String base) {
    return new Browser(base);
  }

  public void go(String path) {
    driver.get(base + path);
  }

  public WebDriverWait waiting() {
    WebDriverWait wait = new WebDriverWait(driver, WAIT);
    wait.ignoring(StaleElementReferenceException.class);
    return wait;
  }

  /** The element, displayed or not. */
  public WebElement find(String id) {
    return driver.findElement(By.id(id));
  }

  /** The element once it is displayed. */
  public WebElement shown(By by) {
    return waiting().until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  public WebElement byId(String id) {
    return shown(By.id(id));
  }

  public WebElement byTest(String test) {
    return shown(testId(test));
  }

  public static By testId(String test) {
    return By.cssSelector("[data-test='" + test + "']");
  }

  public List<WebElement> all(By by) {
    return driver.findElements(by);
  }

  public void click(String id) {
    waiting().until(ExpectedConditions.elementToBeClickable(By.id(id))).click();
  }

  public void type(String id, String text) {
    WebElement field = byId(id);
    field.clear();
    field.sendKeys(text);
  }

  /** Waits until the page's title heading reads {@code title}. */
  public void onPage(String title) {
    waiting().until(ExpectedConditions.textToBe(By.id("page-title"), title));
  }

  public Object script(String js, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(js, args);
  }

  public void resize(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
  }

  /** Saves a PNG of the top of the page as {@code target/console-screenshots/<name>.png}. */
  public Path screenshot(String name) {
    script("window.scrollTo(0, 0)");
    try {
      Path dir = Path.of("target", "console-screenshots");
      Files.createDirectories(dir);
      Path file = dir.resolve(name + ".png");
      Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // a profile left in the temp directory is harmless
      }
    }
  }
}
