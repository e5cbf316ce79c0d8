#!/usr/bin/env python3
"""What share of a node's CPU samples is spent in metrics code (README-ops "What metrics cost").

Usage: run the node under JFR, e.g.
  benchmarks/run.sh --duration=20 --scenarios=wrk \
    "--node-jvm=-XX:+UseParallelGC -XX:StartFlightRecording=filename=/tmp/node.jfr,settings=profile,jdk.ExecutionSample#period=1ms"
then
  jfr print --json --events jdk.ExecutionSample --stack-depth 200 /tmp/node.jfr > /tmp/samples.json
  python3 benchmarks/metrics-share.py /tmp/samples.json

A sample counts as metrics when any frame of its stack is Micrometer's, vertx-micrometer's, Prometheus's or one
of the node's meter classes; each is listed under the method that called into the metrics code.
"""
import json
import sys
from collections import Counter

METRICS = ('io.micrometer.', 'io.vertx.micrometer.', 'io.prometheus.', 'com.scairelay.metrics.',
           'com.scairelay.ingress.InboundMeters', 'com.scairelay.targets.DeliveryMeters', 'com.scairelay.targets.OutboxGauges')


def main(path):
    events = json.load(open(path))['recording']['events']
    in_metrics = 0
    callers = Counter()
    for event in events:
        stack = event['values'].get('stackTrace')
        names = [f['method']['type']['name'].replace('/', '.') + '.' + f['method']['name'] for f in (stack['frames'] if stack else [])]
        marks = [any(n.startswith(m) for m in METRICS) for n in names]
        if any(marks):
            in_metrics += 1
            outermost = max(i for i, m in enumerate(marks) if m)
            callers[names[outermost + 1].split('$$')[0] if outermost + 1 < len(names) else '?'] += 1
    total = len(events)
    print("samples %d, with a metrics frame %d = %.2f%% (+-%.2f%%)" % (total, in_metrics, 100.0 * in_metrics / max(total, 1),
                                                                      100.0 * in_metrics ** 0.5 / max(total, 1)))
    print("callers into metrics code:")
    for caller, n in callers.most_common(12):
        print("  %5d  %s" % (n, caller))


if __name__ == '__main__':
    main(sys.argv[1])
