package com.scairelay.eventlog;

import com.scairelay.store.Fqids;
import com.scairelay.store.Purge;
import com.scairelay.targets.Outbox;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static com.scairelay.store.Times.utc;

/**
 * Group commit for room events. Appends that arrive within a short window (or until a batch is full)
 * are written in one transaction by {@link BatchWriter}; each append's future completes only after
 * its batch committed, and its deliveries were queued in the same transaction (the outbox wakes their
 * targets). New events are then published on {@code relay.room.<room id>}.
 *
 * <p>One instance per event loop: it is used only from the verticle that created it.
 */
public final class EventLog {
  private static final Logger log = LoggerFactory.getLogger(EventLog.class);

  /**
   * Counts shared by every event loop of the node, and their meters: {@code relay_eventlog_batch_size}
   * (events a transaction carried), {@code relay_eventlog_commit_seconds} (from sending a batch to its
   * commit) and {@code relay_eventlog_batches_failed_total} (batches that did not commit).
   */
  public static final class Stats {
    private static final double[] SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
    private static final Duration[] LATENCIES = {Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofSeconds(2)};

    public final LongAdder batches = new LongAdder();
    public final LongAdder events = new LongAdder();
    private final DistributionSummary batchSize;
    private final Timer commit;
    private final Counter failed;

    /** Counts only. */
    public Stats() {
      this(new CompositeMeterRegistry());
    }

    public Stats(MeterRegistry registry) {
      batchSize = DistributionSummary.builder("relay.eventlog.batch.size")
          .description("Events (new and duplicate) written in one event-log transaction")
          .serviceLevelObjectives(SIZES).register(registry);
      commit = Timer.builder("relay.eventlog.commit")
          .description("Time from sending an event-log batch to PostgreSQL to its commit")
          .serviceLevelObjectives(LATENCIES).register(registry);
      failed = Counter.builder("relay.eventlog.batches.failed")
          .description("Event-log batches that did not commit (written again in halves, or answered 503)").register(registry);
    }
  }

  /**
   * How the event log batches: at most {@code maxBatch} events a transaction, gathered for
   * {@code windowMs}, at most {@code maxPending} waiting and {@code maxInFlight} batches committing
   * per event loop; inbound ids are deduplicated for {@code dedupeWindow}; deliveries to the room's
   * outbound bridges are queued as targets of kind {@code bridgeKind}.
   */
  public record Options(Duration dedupeWindow, int maxBatch, int windowMs, int maxPending, int maxInFlight, String bridgeKind) {
  }

  /** Cluster-wide: every node's WebSocket clients of the room hear each new event. */
  /** Dedupe rows received before {@code $1}, at most {@code $2} of them (found by the received_at index, deleted by row address). */
  private static final String PRUNE_DEDUPE = """
      DELETE FROM inbound_dedupe WHERE ctid = ANY(ARRAY(SELECT ctid FROM inbound_dedupe WHERE received_at < $1 LIMIT $2))""";

  /**
   * Cluster-wide: every new event, published to one consumer per node ({@link #relayToStreams}), which
   * passes it to the streams of its room on that node. One address for all rooms: a publish to it costs
   * the same whether or not anyone streams the room, where one clustered address per room would ask the
   * cluster for the subscribers of each room.
   */
  public static final String ROOM_EVENTS = "relay.room-events";
  private static final String ROOM_HEADER = "room";

  /** The node's one consumer of {@link #ROOM_EVENTS}: each event goes to {@link #roomAddress} on this node only. */
  public static MessageConsumer<String> relayToStreams(Vertx vertx) {
    DeliveryOptions local = new DeliveryOptions().setLocalOnly(true);
    return vertx.eventBus().<String>consumer(ROOM_EVENTS,
        message -> vertx.eventBus().publish(roomAddress(message.headers().get(ROOM_HEADER)), message.body(), local));
  }

  /** Node-local: the events of one room, for the WebSocket streams of this node. */
  public static String roomAddress(String roomId) {
    return "relay.room." + roomId;
  }

  /**
   * The node's event logs, one per HTTP event loop. Each room belongs to one of them: appends for it
   * are written there, whichever event loop received them, so a room's batches never wait on each
   * other for its lock and each carries all that arrived meanwhile.
   */
  public static final class Writers {
    private final List<EventLog> logs = new CopyOnWriteArrayList<>();

    EventLog ownerOf(String roomId) {
      return logs.get(Math.floorMod(roomId.hashCode(), logs.size()));
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final Writers writers;
  private final BatchWriter writer;
  private final Fqids fqids;
  private final Clock clock;
  private final Stats stats;
  private final int maxBatch;
  private final long windowMs;
  private final int maxPending;
  private final int maxInFlight;
  private final ArrayDeque<BatchWriter.Item> pending = new ArrayDeque<>();
  private boolean flushScheduled;
  private int inFlight;

  /** Made on the event loop it serves, and joins {@code writers}; senders are stored with the ids {@code fqids} gives them. */
  public EventLog(Vertx vertx, Outbox outbox, Fqids fqids, Clock clock, Stats stats, Options options, Writers writers) {
    this.vertx = vertx;
    this.fqids = fqids;
    this.context = vertx.getOrCreateContext();
    this.writers = writers;
    this.writer = new BatchWriter(outbox, options.dedupeWindow(), options.bridgeKind());
    this.clock = clock;
    this.stats = stats;
    this.maxBatch = options.maxBatch();
    this.windowMs = options.windowMs();
    this.maxPending = options.maxPending();
    this.maxInFlight = options.maxInFlight();
    writers.logs.add(this);
  }

  /** Dedupe rows received before {@code before}, for the purge; an expired row would be replaced anyway, this keeps the table small. */
  public static Purge.Rows dedupeBefore(Instant before) {
    return Purge.byStatement("inbound dedupe rows", PRUNE_DEDUPE, utc(before));
  }

  /**
   * Stores the event through the event log its room belongs to, its sender fully qualified; answered on
   * the caller's event loop. A sender that has no fqid (see {@link Fqids}) is {@link Unstorable}.
   */
  public Future<Appended> append(EventWrite given) {
    EventWrite write;
    try {
      write = given.named(fqids);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new Unstorable("the sender cannot be stored: " + e.getMessage()));
    }
    EventLog owner = writers.ownerOf(write.roomId());
    if (owner == this) {
      return appendHere(write);
    }
    Context caller = vertx.getOrCreateContext();
    Promise<Appended> answer = Promise.promise();
    owner.context.runOnContext(v -> owner.appendHere(write).onComplete(ar -> caller.runOnContext(x -> answer.handle(ar))));
    return answer.future();
  }

  private Future<Appended> appendHere(EventWrite write) {
    if (pending.size() >= maxPending) {
      return Future.failedFuture(new StoreUnavailable(
          "the node has " + pending.size() + " events waiting to be stored; try again shortly", 1));
    }
    Promise<Appended> promise = Promise.promise();
    pending.add(new BatchWriter.Item(write, promise));
    if (inFlight >= maxInFlight) {
      return promise.future();
    }
    if (pending.size() >= maxBatch) {
      flush();
    } else if (!flushScheduled) {
      flushScheduled = true;
      if (windowMs == 0) {
        vertx.runOnContext(v -> flush());
      } else {
        vertx.setTimer(windowMs, id -> flush());
      }
    }
    return promise.future();
  }

  /**
   * Writes what is pending, at most {@code maxInFlight} batches at a time: while batches are being
   * committed, new appends wait and form the next, larger batch (group commit), so under load each
   * commit carries more events instead of more commits queueing for the same rows.
   */
  private void flush() {
    flushScheduled = false;
    while (!pending.isEmpty() && inFlight < maxInFlight) {
      List<BatchWriter.Item> batch = new ArrayList<>(Math.min(maxBatch, pending.size()));
      while (batch.size() < maxBatch && !pending.isEmpty()) {
        batch.add(pending.poll());
      }
      writeBatch(batch);
    }
  }

  private void writeBatch(List<BatchWriter.Item> batch) {
    stats.batches.increment();
    inFlight++;
    long started = System.nanoTime();
    writer.write(batch, clock.instant())
        .onSuccess(written -> {
          stats.commit.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
          stats.batchSize.record(batch.size());
          stats.events.add(written.size());
          for (BatchWriter.Item item : batch) {
            item.promise.tryComplete(new Appended(item.eventId(), !item.stored));
          }
          for (StoredEvent event : written) {
            vertx.eventBus().publish(ROOM_EVENTS, event.toJson().encode(), new DeliveryOptions().addHeader(ROOM_HEADER, event.roomId()));
          }
        })
        .onFailure(err -> {
          stats.failed.increment();
          failed(batch, err);
        })
        .onComplete(ar -> {
          inFlight--;
          flush();
        });
  }

  /**
   * One item whose data PostgreSQL refuses must not fail the others: the batch is written again in
   * halves until the item is alone, and only it is refused. Any other failure answers 503 to all.
   */
  private void failed(List<BatchWriter.Item> batch, Throwable err) {
    if (isDataError(err) && batch.size() > 1) {
      log.warn("a batch of {} events failed on one item's data ({}); writing it again in halves", batch.size(), err.getMessage());
      writeBatch(new ArrayList<>(batch.subList(0, batch.size() / 2)));
      writeBatch(new ArrayList<>(batch.subList(batch.size() / 2, batch.size())));
      return;
    }
    if (isDataError(err)) {
      log.warn("an event was refused by PostgreSQL: {}", err.getMessage());
      batch.get(0).promise.tryFail(new Unstorable("the event cannot be stored exactly as sent: " + err.getMessage()));
      return;
    }
    log.error("a batch of {} events could not be stored; every request in it is answered 503: {}", batch.size(), err.toString());
    StoreUnavailable problem = new StoreUnavailable("the event could not be stored; nothing was kept, try again", 1);
    batch.forEach(item -> item.promise.tryFail(problem));
  }

  /** SQLSTATE class 22 (data exception: bad text, bad JSON, out of range): the data, not the database. */
  private static boolean isDataError(Throwable err) {
    return err instanceof PgException pg && pg.getSqlState() != null && pg.getSqlState().startsWith("22");
  }
}
