#!/usr/bin/env bash
# cluster_probe_etcd.sh: cluster_probe.sh in etcd mode (cluster_lab.bash, CL_ETCD=1): the same steps, with a real
# etcd as the fabric services database for both hosts and the unit.
CL_ETCD=1 exec "$(dirname "$0")/cluster_probe.sh"
