#!/usr/bin/env bash
# rediscover_lab_portonly.sh: rediscover_lab_scenario.sh with the seed's port-only variant: the pool's replacement
# is the same address on a new TCP port (192.0.2.3:3261).
SCEN_PORT_ONLY=1 exec bash "$(dirname "$0")/rediscover_lab_scenario.sh"
