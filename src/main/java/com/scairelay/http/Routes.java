package com.scairelay.http;

import io.vertx.ext.web.Router;

/** A part's HTTP routes: the node assembles the list, the HTTP verticle mounts each on its router. */
@FunctionalInterface
public interface Routes {
  void mount(Router router);
}
