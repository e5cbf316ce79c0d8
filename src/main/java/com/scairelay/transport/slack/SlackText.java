package com.scairelay.transport.slack;

/**
 * Slack's message text escaping: {@code &}, {@code <} and {@code >} are the control characters of its
 * markup ({@code <@U123>}, {@code <!channel>}, {@code <https://…|label>}), written {@code &amp;},
 * {@code &lt;}, {@code &gt;} when meant literally.
 */
final class SlackText {
  private SlackText() {
  }

  /** Text from elsewhere, posted as written: a bridged user cannot mention {@code @channel} or forge a link. */
  static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** Slack's text as the user typed it; markup such as {@code <@U123>} is kept as it is. */
  static String unescape(String text) {
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
  }
}
