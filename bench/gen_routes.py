#!/usr/bin/env python3
"""Writes a Traefik dynamic configuration (file provider, YAML) with N routers for the routing-scale
benchmark, all pointing at one round-robin service, so that only the router lookup changes with N.

Routers are named r00000, r00001, ... and their rules all have the same length, so Traefik's
default priority (the rule's length) is equal and no router is favoured by it:
  --kind host:  Host(`r00042.bench.test`)
  --kind path:  PathPrefix(`/r00042/`)
It prints, on stdout, what a request must carry to reach the LAST router: the Host header (host)
or the path prefix (path), which the benchmark then targets.
"""

import argparse
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("host", "path"), required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--server", action="append", required=True, help="backend URL, repeatable")
    parser.add_argument("--entrypoint", default="web")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")

    def rule(i):
        if args.kind == "host":
            return f"Host(`r{i:05d}.bench.test`)"
        return f"PathPrefix(`/r{i:05d}/`)"

    lines = ["http:", "  routers:"]
    for i in range(args.count):
        lines += [
            f"    r{i:05d}:",
            f"      rule: \"{rule(i)}\"",
            "      service: bench",
            f"      entryPoints: [{args.entrypoint}]",
        ]
    lines += ["  services:", "    bench:", "      loadBalancer:", "        servers:"]
    lines += [f"          - url: \"{server}\"" for server in args.server]
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    last = args.count - 1
    print(f"r{last:05d}.bench.test" if args.kind == "host" else f"/r{last:05d}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
