// Pico W: pico_rand's get_rand_128(). It mixes ring-oscillator and timer
// entropy into xoroshiro128**, a software PRNG that is not cryptographic (its
// outputs reveal its state), so the port does not call it strong.
#include "xsPlatform.h"
#include "xsmc.h"
#include <stdlib.h>
#include <string.h>
#include "pico/rand.h"

static void agentRandomBytes(uint8_t *bytes, size_t length)
{
	while (length > 0) {
		rng_128_t r;
		size_t n = length < sizeof(r) ? length : sizeof(r);
		get_rand_128(&r);
		memcpy(bytes, &r, n);
		bytes += n;
		length -= n;
	}
}

void xs_agent_random_fill(xsMachine *the)
{
	size_t length = xsmcGetArrayBufferLength(xsArg(0));
	agentRandomBytes(xsmcToArrayBuffer(xsArg(0)), length);
}

void xs_agent_random_reseed_libc(xsMachine *the)
{
	srand(get_rand_32());
}

void xs_agent_random_source(xsMachine *the)
{
	xsmcSetString(xsResult, "pico_rand");
}

void xs_agent_random_strong(xsMachine *the)
{
	xsmcSetBoolean(xsResult, 0);
}
