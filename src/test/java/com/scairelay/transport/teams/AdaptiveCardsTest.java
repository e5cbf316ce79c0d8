package com.scairelay.transport.teams;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The Workflows message stays under the post action's 28 KB, saying so when text had to be cut. */
class AdaptiveCardsTest {
  private static int bodyBytes(String text) {
    return AdaptiveCards.message("Alice", text, false).encode().getBytes(StandardCharsets.UTF_8).length;
  }

  @Test
  void textThatFitsIsKeptWhole() {
    String text = "é".repeat(5_000) + "\"quoted\"\n";

    assertThat(AdaptiveCards.fit(text)).isEqualTo(text);
  }

  @Test
  void longTextIsCutUnder28KbAndMarked() {
    for (String unit : new String[] {"a", "é", "\uD83D\uDE00", "\"", "\u0001"}) {
      String text = unit.repeat(40_000);
      String fitted = AdaptiveCards.fit(text);

      assertThat(fitted).as(unit).endsWith(AdaptiveCards.SHORTENED);
      assertThat(text).startsWith(fitted.substring(0, fitted.length() - AdaptiveCards.SHORTENED.length()));
      assertThat(bodyBytes(text)).as(unit).isLessThan(28 * 1024);
      assertThat(bodyBytes(text)).as(unit).isGreaterThan(AdaptiveCards.MAX_TEXT_BYTES - 8);
    }
  }

  @Test
  void aSurrogatePairIsNeverSplit() {
    String text = "a" + "\uD83D\uDE00".repeat(10_000);

    String kept = AdaptiveCards.fit(text).replace(AdaptiveCards.SHORTENED, "");

    assertThat(Character.isHighSurrogate(kept.charAt(kept.length() - 1))).isFalse();
  }
}
