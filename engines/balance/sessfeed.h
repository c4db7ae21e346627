/* sessfeed.h: keeps one sanSessionTable row per logged-in path of every balance team. */
#ifndef BAL_SESSFEED_H
#define BAL_SESSFEED_H

/* Subscribes to the balance engine's events (once) and follows its teams;
 * 0 or -errno. */
int bal_sessfeed_start(void);
/* Ends every session it reported (sanSessionDown for the logged-in ones). */
void bal_sessfeed_stop(void);
/* Reads every team's live path values into the registry now; the glue
 * calls it just before each sess_tick(), and engine events call it too. */
void bal_sessfeed_sync(void);

#endif
