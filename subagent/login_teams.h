/* login_teams.h: the connection manager's login rows made balance-engine teams (plugged together here, in subagent/).
 */
#ifndef SA_LOGIN_TEAMS_H
#define SA_LOGIN_TEAMS_H

/* Plugs the balance engine in as the connection manager's data plane and
 * forwards the balance engine's team events to it.  0 or -errno. */
int sa_login_teams_start(void);
void sa_login_teams_stop(void);

#endif
