// See sim-clock.js. Linux simulator only.
#include "xsPlatform.h"
#include "xsmc.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void xs_agent_sim_clock_set(xsMachine *the)
{
	const char *path = getenv("FAKETIME_TIMESTAMP_FILE");
	time_t seconds = (time_t)xsmcToNumber(xsArg(0));
	struct tm utc;
	char line[40];
	FILE *file;

	xsmcSetBoolean(xsResult, 0);
	if ((NULL == path) || (NULL == gmtime_r(&seconds, &utc)))
		return;
	// libfaketime's absolute start time, read as local time: the simulator runs with TZ=UTC.
	if (0 == strftime(line, sizeof(line), "@%Y-%m-%d %H:%M:%S\n", &utc))
		return;
	file = fopen(path, "w");
	if (NULL == file)
		return;
	if (fputs(line, file) >= 0)
		xsmcSetBoolean(xsResult, 1);
	fclose(file);
}

void xs_agent_sim_clock_ticks(xsMachine *the)
{
	struct timespec now;
	if (0 != clock_gettime(CLOCK_MONOTONIC, &now))
		xsUnknownError("clock_gettime failed");
	xsmcSetNumber(xsResult, ((double)now.tv_sec * 1000.0) + (double)(now.tv_nsec / 1000000));
}
