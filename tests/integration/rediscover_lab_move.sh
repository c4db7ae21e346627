#!/usr/bin/env bash
# rediscover_lab_move.sh: one act-mode move in the namespace lab (rediscover_lab.bash), started by the manual
# trigger: the name-server agent moves X from interface 36 (192.0.2.3) to the pool's 192.0.2.4 on the storage
# host's eth36.  The storage agent adds the address there and tgt listens on it (its sanStorPortalTable row),
# isnsd lists X at 192.0.2.4 and 198.51.100.52 but no longer at 192.0.2.3 while Y and Z stay there, Host_2's
# session over the old portal is ended, the decision row reads done and sanTargetReaddressed reaches the
# manager's snmptrapd.  The seed's whole scenario (feedback, workloads, messages) is rediscover_lab_*.sh's.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rediscover_lab.bash"

sa_init rediscover_lab_move
sa_need_plugin

M=.1.3.6.1.4.1.32473.1.3.4
READDRESSED=$M.0.4
CTL=$M.1.11   # sanRediscControls
DEC=$M.1.10.1 # sanRediscDecisionEntry
SESS=$M.1.8.1 # sanRediscSessionEntry
POOL=192.0.2.4

rl_up none
rl_agent_up ns "mode = \"act\"; hold_time = 0; pool = [ \"$POOL@eth36\" ];"
rl_agent_up sto "feedback_interval = 2;"
rl_agent_up h2 "feedback_interval = 2;"
rl_login h2 1 "$RL_X" "$RL_STO36"
known() { rl_walk ns "$SESS.2" | grep -q "\"$RL_H2_IQN\""; }
sa_wait_for 20 known || sa_fail "the name server does not know Host_2's session: $(rl_walk ns "$SESS")"
pgs() {
	rl_isnsadm --list portal-groups | awk -F' = ' '/Portal group name/{n=$2} /Portal group address/{a=$2}
		/Portal group tag/{gsub(/"/,"",n); print n, a}' | grep -E "^($RL_X|$RL_Y|$RL_Z) " | sort
}
# (the initiators' own entities, with their SCN portals, are left out)
sa_log "iSNS before: $(pgs | tr '\n' ';')"
sid0=$(rl_tgt --op show --mode target | awk -v h="$RL_H2_IQN" '/I_T nexus:/{s=$3} $0 ~ "Initiator: " h " "{print s; exit}')

t0=$(sa_now_ms)
rl_set ns "$CTL.1.0" s "$RL_X" "$CTL.2.0" i 1 "$CTL.3.0" x C0000203 "$CTL.4.0" u 3260 "$CTL.5.0" s "" \
	"$CTL.6.0" i 2 >/dev/null || sa_fail "sanRediscTrigger refused"
ended() { s=$(rl_get ns "$DEC.17.1"); [ "$s" = 3 ] || [ "$s" = 4 ]; }
sa_wait_for 30 ended || sa_fail "decision 1 still $(rl_get1 ns "$DEC.17.1" "$DEC.21.1")"
row=$(rl_get1 ns "$DEC.7.1" "$DEC.12.1" "$DEC.17.1" "$DEC.18.1" "$DEC.21.1")
[ "$row" = "\"$RL_X\" \"C0 00 02 04 \" 3 1 \"\"" ] || sa_fail "decision 1: $row"
sa_log "decision 1 done in $(($(sa_now_ms) - t0)) ms: $row"
rl_in "$RL_STO" ip -o addr show dev eth36 | grep -q "inet $POOL/32" ||
	sa_fail "$POOL not on the storage host's eth36: $(rl_in "$RL_STO" ip -o addr show dev eth36)"
rl_tgt --lld iscsi --op show --mode portal | grep -q "^Portal: $POOL:3260," || sa_fail "tgt has no portal $POOL:3260"
rl_tgt --lld iscsi --op show --mode portal | grep -q "^Portal: $RL_STO36:3260," ||
	sa_fail "tgt lost $RL_STO36:3260 (Y and Z are served there)"
after=$(pgs)
sa_log "iSNS after: $(echo "$after" | tr '\n' ';')"
want=$(printf '%s\n' "$RL_X $POOL" "$RL_X $RL_STO38" "$RL_Y $RL_STO36" "$RL_Y $RL_STO38" "$RL_Z $RL_STO36" \
	"$RL_Z $RL_STO38" | sort)
[ "$after" = "$want" ] || sa_fail "iSNS portal groups: $(echo "$after" | tr '\n' ';')"
gone() { ! rl_tgt --op show --mode target | grep -q "I_T nexus: $sid0\$"; }
sa_wait_for 10 gone || sa_fail "Host_2's session $sid0 at the old portal not ended"
sa_wait_for 10 rl_trap_seen "$READDRESSED" || sa_fail "sanTargetReaddressed not at the manager's snmptrapd"
# What Host_2 does next is the messages' and the reaction's part; say where its login is.
sa_log "Host_2's login 1 (address, oper) after the move: $(rl_get1 h2 "$RL_LOGIN.4.1" "$RL_LOGIN.11.1")"
echo PASS
