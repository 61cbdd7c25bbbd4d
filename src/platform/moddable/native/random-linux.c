// Linux (the simulator): the kernel CSPRNG through getrandom(2).
#include "xsPlatform.h"
#include "xsmc.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

static void agentRandomBytes(xsMachine *the, uint8_t *bytes, size_t length)
{
	while (length > 0) {
		ssize_t n = getrandom(bytes, length, 0);
		if (n < 0) {
			if (EINTR == errno)
				continue;
			xsUnknownError("getrandom failed");
		}
		bytes += n;
		length -= (size_t)n;
	}
}

void xs_agent_random_fill(xsMachine *the)
{
	size_t length = xsmcGetArrayBufferLength(xsArg(0));
	agentRandomBytes(the, xsmcToArrayBuffer(xsArg(0)), length);
}

void xs_agent_random_reseed_libc(xsMachine *the)
{
	unsigned int seed;
	agentRandomBytes(the, (uint8_t *)&seed, sizeof(seed));
	srand(seed);
}

void xs_agent_random_source(xsMachine *the)
{
	xsmcSetString(xsResult, "getrandom");
}

void xs_agent_random_strong(xsMachine *the)
{
	xsmcSetBoolean(xsResult, 1);
}
