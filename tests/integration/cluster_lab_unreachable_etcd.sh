#!/usr/bin/env bash
# cluster_lab_unreachable_etcd.sh: cluster_lab_unreachable.sh in etcd mode (cluster_lab.bash, CL_ETCD=1): a host
# cut off from the network while etcd stays reachable for the others.
CL_ETCD=1 exec "$(dirname "$0")/cluster_lab_unreachable.sh"
