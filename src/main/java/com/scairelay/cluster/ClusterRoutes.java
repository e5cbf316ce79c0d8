package com.scairelay.cluster;

import com.scairelay.http.Guard;
import com.scairelay.http.Responses;
import com.scairelay.http.Routes;
import com.scairelay.http.Scopes;
import com.scairelay.targets.NodeLease;
import com.scairelay.targets.Ownership;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /v1/admin/cluster} (scope {@code admin:read}): the members this node sees, what
 * PostgreSQL knows of every node (its lease, how many targets it holds), and with
 * {@code ?target_id=} which node owns that target by the members and which holds it in PostgreSQL.
 */
public final class ClusterRoutes implements Routes {
  private final Guard guard;
  private final NodeLease lease;
  private final Ownership ownership;
  private final Supplier<Map<String, String>> addresses;
  private final boolean clustered;

  /** @param addresses the Hazelcast address of each member by node id */
  public ClusterRoutes(Guard guard, NodeLease lease, Ownership ownership, Supplier<Map<String, String>> addresses, boolean clustered) {
    this.guard = guard;
    this.lease = lease;
    this.ownership = ownership;
    this.addresses = addresses;
    this.clustered = clustered;
  }

  @Override
  public void mount(Router router) {
    router.get("/v1/admin/cluster").handler(guard.require(Scopes.ADMIN_READ)).handler(this::show);
  }

  private void show(RoutingContext ctx) {
    String targetId = ctx.queryParams().get("target_id");
    Map<String, String> members = addresses.get();
    JsonArray seen = new JsonArray();
    java.util.List<String> owners = ownership.owners();
    ownership.members().forEach(id -> seen.add(new JsonObject().put("node_id", id).put("address", members.get(id))
        .put("self", id.equals(lease.nodeId())).put("owns_targets", owners.contains(id))));
    JsonObject answer = new JsonObject().put("clustered", clustered).put("node_id", lease.nodeId()).put("members", seen);
    lease.nodes()
        .compose(nodes -> {
          answer.put("nodes", nodes);
          if (targetId == null || targetId.isBlank()) {
            return Future.succeededFuture(answer);
          }
          return lease.holder(targetId).map(holder -> answer.put("target", new JsonObject()
              .put("target_id", targetId)
              .put("owner", ownership.ownerOf(targetId))
              .put("holder", holder)));
        })
        .onSuccess(body -> Responses.json(ctx, 200, body))
        .onFailure(ctx::fail);
  }
}
