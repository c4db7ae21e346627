#!/usr/bin/env bash
# cluster_lab_fig4_etcd.sh: cluster_lab_fig4.sh in etcd mode (cluster_lab.bash, CL_ETCD=1): the same steps, with a
# real etcd as the fabric services database for every host and unit.
CL_ETCD=1 exec "$(dirname "$0")/cluster_lab_fig4.sh"
