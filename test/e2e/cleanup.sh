#!/usr/bin/env bash
# Removes containers and networks that end-to-end tests left (label org.berth.test), e.g. after a crash.
set -u
containers=$(docker ps -aq --filter label=org.berth.test)
[ -z "$containers" ] || docker rm -f -v $containers >/dev/null
networks=$(docker network ls -q --filter label=org.berth.test)
[ -z "$networks" ] || docker network rm $networks >/dev/null
exit 0
