/* loginTable.c: placeholder until its helper writes it. */
#include "handlers/handlers.h"

int h_login_init(void)
{
	return 0;
}

void h_login_shutdown(void)
{
}
