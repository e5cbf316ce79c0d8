package com.scairelay.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.HazelcastInstance;
import com.scairelay.config.ConfigException;
import com.scairelay.config.RelayConfig;
import com.scairelay.metrics.NodeMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.FileNotFoundException;
import java.util.List;

/**
 * A Vert.x instance in a Hazelcast cluster of ScaiRelay nodes (DESIGN.md §1): the clustered event bus
 * between the nodes, and the members that {@link Rendezvous} shares the targets among. Built from
 * {@code cluster/hazelcast.xml} (or {@code cluster.hazelcast_config}) with this node's {@code cluster.*}
 * settings on top.
 */
public final class ClusterNode {
  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final Rendezvous ownership = new Rendezvous();

  private ClusterNode(Vertx vertx, HazelcastClusterManager manager) {
    this.vertx = vertx;
    this.hazelcast = manager.getHazelcastInstance();
    hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        refresh();
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        refresh();
      }
    });
    refresh();
  }

  /** Joins the cluster of {@code settings}; fails when the port is taken or Hazelcast cannot start. */
  public static Future<ClusterNode> join(RelayConfig.Cluster settings, VertxOptions options) {
    return join(settings, options, NodeMetrics.off());
  }

  /** The same, on a Vert.x that reports its own metrics to the node's {@code metrics}. */
  public static Future<ClusterNode> join(RelayConfig.Cluster settings, VertxOptions options, NodeMetrics metrics) {
    System.setProperty("hazelcast.logging.type", "slf4j");
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcastConfig(settings));
    options.getEventBusOptions().setHost(settings.host()).setPort(0);
    return metrics.vertx(options).withClusterManager(manager).buildClustered()
        .map(vertx -> new ClusterNode(vertx, manager));
  }

  /** The Hazelcast configuration of a node: the file, then this node's name, address and members. */
  static Config hazelcastConfig(RelayConfig.Cluster settings) {
    Config config;
    try {
      config = settings.hazelcastConfig().isPresent()
          ? new FileSystemXmlConfig(settings.hazelcastConfig().get().toFile())
          : new ClasspathXmlConfig("cluster/hazelcast.xml");
    } catch (FileNotFoundException | RuntimeException e) {
      throw new ConfigException("cannot read the Hazelcast configuration " + settings.hazelcastConfig().map(Object::toString).orElse("cluster/hazelcast.xml")
          + " (cluster.hazelcast_config, env RELAY_CLUSTER_HAZELCAST_CONFIG): " + e.getMessage());
    }
    config.setClusterName(settings.name());
    config.setProperty("hazelcast.max.no.heartbeat.seconds", Long.toString(settings.failureTimeout().toSeconds()));
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(settings.port()).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).setInterfaces(List.of(settings.host()));
    network.getJoin().getMulticastConfig().setEnabled(false);
    network.getJoin().getAutoDetectionConfig().setEnabled(false);
    List<String> members = settings.members().isEmpty() ? List.of(settings.host() + ":" + settings.port()) : settings.members();
    network.getJoin().getTcpIpConfig().setEnabled(true).setMembers(members);
    return config;
  }

  private void refresh() {
    ownership.update(hazelcast.getCluster().getMembers().stream().map(Member::getUuid).map(Object::toString).toList());
  }

  public Vertx vertx() {
    return vertx;
  }

  /** This node's id in the cluster: its Hazelcast member id, which is also its Vert.x node id. */
  public String nodeId() {
    return hazelcast.getCluster().getLocalMember().getUuid().toString();
  }

  public Rendezvous ownership() {
    return ownership;
  }

  /** The member addresses by node id, for the admin API. */
  public java.util.Map<String, String> addresses() {
    java.util.Map<String, String> addresses = new java.util.LinkedHashMap<>();
    for (Member member : hazelcast.getCluster().getMembers()) {
      addresses.put(member.getUuid().toString(), member.getAddress().getHost() + ":" + member.getAddress().getPort());
    }
    return addresses;
  }
}
