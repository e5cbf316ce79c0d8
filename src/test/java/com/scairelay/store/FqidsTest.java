package com.scairelay.store;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fully qualified form of participant ids: natives, shadows, the escape of foreign ids and its inverse. */
class FqidsTest {
  final Fqids fqids = new Fqids("chat.example.com");

  @Test
  void aBareNativeNameGetsTheServerAndAFullIdIsKept() {
    assertThat(fqids.nativeUser("alice")).isEqualTo("@alice:chat.example.com");
    assertThat(fqids.nativeUser("Agent 7")).isEqualTo("@Agent 7:chat.example.com");
    assertThat(fqids.nativeUser("@alice:chat.example.com")).isEqualTo("@alice:chat.example.com");
    assertThat(fqids.nativeUser("@bob:other.example:8448")).isEqualTo("@bob:other.example:8448");
    assertThat(fqids.nativeUser("@bridge_x:other.example")).as("another server's names are its own").isEqualTo("@bridge_x:other.example");
  }

  @Test
  void nativeNamesThatAreNoIdOrLookLikeAShadowOfThisServerAreRefused() {
    assertThatThrownBy(() -> fqids.nativeUser("alice:x")).hasMessageContaining("neither a bare name");
    assertThatThrownBy(() -> fqids.nativeUser("bridge:brg_x:U1")).hasMessageContaining("neither a bare name");
    assertThatThrownBy(() -> fqids.nativeUser("@alice")).hasMessageContaining("not a full id");
    assertThatThrownBy(() -> fqids.nativeUser("@:x")).hasMessageContaining("not a full id");
    assertThatThrownBy(() -> fqids.nativeUser("@alice:")).hasMessageContaining("not a full id");
    assertThatThrownBy(() -> fqids.nativeUser("bridge_brg__1._u1")).hasMessageContaining("form of a bridged user");
    assertThatThrownBy(() -> fqids.nativeUser("@bridge_brg__1._u1:chat.example.com")).hasMessageContaining("form of a bridged user");
  }

  @Test
  void aShadowIsNamedForItsBridgeAndItsEscapedExternalId() {
    assertThat(fqids.shadow("brg_0a1b2c", "U12345")).isEqualTo("@bridge_brg__0a1b2c._u12345:chat.example.com");
    assertThat(fqids.shadow("brg_0a1b2c", "29:1a2b3c-alice")).isEqualTo("@bridge_brg__0a1b2c.29=3a1a2b3c-alice:chat.example.com");
    assertThat(fqids.shadow("brg_Team-1", "alice.smith@example.org"))
        .isEqualTo("@bridge_brg___team-1.alice.smith=40example.org:chat.example.com");
    assertThat(fqids.shadow("brg_a.b", "x")).as("a dot would end the bridge part").isEqualTo("@bridge_brg__a=2eb.x:chat.example.com");
    assertThat(Fqids.isQualified(fqids.shadow("brg_1", "a:b:c"))).isTrue();
  }

  @Test
  void theEscapeFollowsTheMatrixMappingAndIsUndone() {
    Map<String, String> examples = Map.of(
        "U0ALICE", "_u0_a_l_i_c_e",
        "snake_case", "snake__case",
        "a=b", "a=3db",
        "Grüße", "_gr=c3=bc=c3=9fe",
        "👋", "=f0=9f=91=8b",
        "path/to.x-y", "path/to.x-y",
        "tab\there", "tab=09here");
    examples.forEach((raw, escaped) -> {
      assertThat(Fqids.escape(raw, true)).as(raw).isEqualTo(escaped);
      assertThat(Fqids.unescape(escaped)).as(escaped).isEqualTo(raw);
      assertThat(escaped).matches("[a-z0-9._=/-]*");
    });
  }

  @Test
  void differentExternalIdsNeverShareAnFqid() {
    Random random = new Random(14);
    String alphabet = "aAzZ09_=.:/-é👋 \u0000";
    Map<String, String> seen = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      StringBuilder raw = new StringBuilder();
      for (int n = 1 + random.nextInt(6); n > 0; n--) {
        raw.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
      }
      String fqid = fqids.shadow("brg_x", raw.toString());
      assertThat(seen.computeIfAbsent(fqid, k -> raw.toString())).as(fqid).isEqualTo(raw.toString());
      assertThat(Fqids.ownName(fqid)).isEqualTo(raw.toString());
    }
  }

  @Test
  void aShadowGoesByItsExternalIdAndANativeByItsFqid() {
    assertThat(Fqids.ownName(fqids.shadow("brg_0a1b", "U0ALICE"))).isEqualTo("U0ALICE");
    assertThat(Fqids.ownName(fqids.shadow("brg_0a1b", "a.b:c"))).isEqualTo("a.b:c");
    assertThat(Fqids.ownName("@alice:chat.example.com")).isEqualTo("@alice:chat.example.com");
    assertThat(Fqids.ownName("agent-7")).isEqualTo("agent-7");
  }

  @Test
  void anExternalIdTooLongToIndexIsRefused() {
    assertThat(fqids.shadow("brg_x", "日".repeat(255))).hasSizeLessThanOrEqualTo(Fqids.MAX_LENGTH);
    assertThatThrownBy(() -> fqids.shadow("brg_x", "日".repeat(300))).hasMessageContaining("too long");
  }
}
