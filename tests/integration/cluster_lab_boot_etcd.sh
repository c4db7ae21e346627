#!/usr/bin/env bash
# cluster_lab_boot_etcd.sh: cluster_lab_boot.sh in etcd mode (cluster_lab.bash, CL_ETCD=1): hosts restarting with a
# stale state file, the table in etcd.
CL_ETCD=1 exec "$(dirname "$0")/cluster_lab_boot.sh"
