package com.scairelay.audit;

/** The eight audit categories of DESIGN.md §3. */
public enum Category {
  AUTHENTICATION, AUTHORIZATION, FILE_ACCESS, FILE_MODIFICATION, SHARING, ADMIN, SECURITY, COMPLIANCE
}
