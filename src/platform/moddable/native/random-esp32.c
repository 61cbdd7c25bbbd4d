// ESP32: the hardware RNG through esp_fill_random() (true random while Wi-Fi
// or Bluetooth runs, which is always the case when the agent is online). The
// SDK's c_rand() is esp_random() already, so srand() changes nothing there.
#include "xsPlatform.h"
#include "xsmc.h"
#include <stdlib.h>
#include "esp_random.h"

void xs_agent_random_fill(xsMachine *the)
{
	size_t length = xsmcGetArrayBufferLength(xsArg(0));
	esp_fill_random(xsmcToArrayBuffer(xsArg(0)), length);
}

void xs_agent_random_reseed_libc(xsMachine *the)
{
	srand(esp_random());
}

void xs_agent_random_source(xsMachine *the)
{
	xsmcSetString(xsResult, "esp_fill_random");
}

void xs_agent_random_strong(xsMachine *the)
{
	xsmcSetBoolean(xsResult, 1);
}
