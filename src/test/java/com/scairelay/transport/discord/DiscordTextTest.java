package com.scairelay.transport.discord;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What Discord accepts: parts of at most 2,000 characters and a webhook username it does not refuse. */
class DiscordTextTest {
  @Test
  void aShortTextIsOnePartAndABlankOneNone() {
    assertThat(DiscordText.split("hello", 2000)).containsExactly("hello");
    assertThat(DiscordText.split("  \n ", 2000)).isEmpty();
  }

  @Test
  void aLongTextIsCutAtTheLastLineBreakOfEachPartThenAtASpace() {
    String lines = "a".repeat(1500) + "\n" + "b".repeat(100) + " " + "c".repeat(1000);
    assertThat(DiscordText.split(lines, 2000)).containsExactly("a".repeat(1500), "b".repeat(100) + " " + "c".repeat(1000));

    String words = "w".repeat(1200) + " " + "x".repeat(1200);
    assertThat(DiscordText.split(words, 2000)).containsExactly("w".repeat(1200), "x".repeat(1200));
  }

  @Test
  void aTextWithoutBreaksIsCutAtTheLimitNeverInsideASurrogatePair() {
    String emoji = "\uD83D\uDE00";
    String text = "z".repeat(1999) + emoji + "z";
    List<String> parts = DiscordText.split(text, 2000);
    assertThat(parts).containsExactly("z".repeat(1999), emoji + "z");
    assertThat(String.join("", DiscordText.split("q".repeat(4500), 2000))).isEqualTo("q".repeat(4500));
    assertThat(DiscordText.split("q".repeat(4500), 2000)).extracting(String::length).containsExactly(2000, 2000, 500);
  }

  @Test
  void anEditIsTruncatedWithAnEllipsis() {
    assertThat(DiscordText.truncate("short", 2000)).isEqualTo("short");
    String cut = DiscordText.truncate("t".repeat(2500), 2000);
    assertThat(cut).hasSize(2000).endsWith("…");
  }

  @Test
  void usernamesDiscordRefusesAreMadeAcceptableAndBounded() {
    assertThat(DiscordText.username("DISCORD mod", null)).isEqualTo("DISC\u041ERD mod");
    assertThat(DiscordText.username("clyde", null)).isEqualTo("clyd\u0435");
    assertThat(DiscordText.username("  \u0007 ", "bridge:alice")).isEqualTo("bridge:alice");
    assertThat(DiscordText.username(null, null)).isEqualTo("ScaiRelay");
    assertThat(DiscordText.username("n".repeat(100), null)).hasSize(80);
  }
}
