package com.scairelay.config;

/** A configuration value that cannot be used; the message names the key and its environment variable. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
