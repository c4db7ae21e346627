#!/usr/bin/env bash
# cluster_lab_kill_etcd.sh: cluster_lab_kill.sh in etcd mode (cluster_lab.bash, CL_ETCD=1): kill -9 of the
# etcd-connected writer during a change.
CL_ETCD=1 exec "$(dirname "$0")/cluster_lab_kill.sh"
