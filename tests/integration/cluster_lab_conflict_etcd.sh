#!/usr/bin/env bash
# cluster_lab_conflict_etcd.sh: cluster_lab_conflict.sh in etcd mode (cluster_lab.bash, CL_ETCD=1): two hosts change
# the same base at once, etcd's revision compare decides.
CL_ETCD=1 exec "$(dirname "$0")/cluster_lab_conflict.sh"
