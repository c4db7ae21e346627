/* storTables.c: placeholder until its helper writes it. */
#include "handlers/handlers.h"

int h_stor_init(void)
{
	return 0;
}

void h_stor_shutdown(void)
{
}
