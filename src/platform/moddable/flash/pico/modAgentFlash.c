/*
 * The Pico W telemetry queue on raw flash, outside littlefs: the SDK's
 * littlefs copies a whole file on a small in-place write (25 sector erases
 * for 64 bytes), runs out of space at close on the Pico layout, and its
 * close result is ignored by the file module. Here the queue owns whole
 * sectors and every write is checked (agent-flash.c).
 *
 * Placement: the region is the top of the free flash just below the SDK's
 * littlefs partition (modGetPartition(kPartitionStorage)), so littlefs and
 * the preferences above it are untouched, and it must start above the end
 * of the firmware image (kModulesStart). XS mods (MODDEF_XS_MODS) would
 * share that free flash, so such a build is refused.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"
#include "mc.defines.h"
#include "agent-flash.h"

#if MODDEF_XS_MODS
	#error "agent flash: XS mods would share the free flash with the queue region"
#endif

static agent_flash_region gRegion;

int agent_flash_hal_erase(uint32_t offset, uint32_t size)
{
	return modSPIErase(offset, size);
}

int agent_flash_hal_program(uint32_t offset, const uint8_t *src, uint32_t size)
{
	return modSPIWrite(offset, size, src);
}

int agent_flash_hal_read(uint32_t offset, uint8_t *dst, uint32_t size)
{
	return modSPIRead(offset, size, dst);
}

/* open(byteLength): places the region; returns the sector size. Throws when it does not fit. */
void xs_agentflash_open(xsMachine *the)
{
	int byteLength = xsmcToInteger(xsArg(0));
	uint32_t lfsOffset, lfsSize, imageEnd, base;
	if ((byteLength <= 0) || (byteLength % FLASH_SECTOR_SIZE))
		xsRangeError("queue region must be whole %d-byte sectors", FLASH_SECTOR_SIZE);
	if (!modGetPartition(kPartitionStorage, &lfsOffset, &lfsSize))
		xsUnknownError("no storage partition");
	imageEnd = (uint32_t)(kModulesStart - kFlashStart);
	if ((lfsOffset < imageEnd) || ((lfsOffset - imageEnd) < (uint32_t)byteLength))
		xsUnknownError("queue region of %d bytes does not fit between the image and littlefs", byteLength);
	base = lfsOffset - (uint32_t)byteLength;
	gRegion.base = base;
	gRegion.byteLength = (uint32_t)byteLength;
	gRegion.sectorSize = FLASH_SECTOR_SIZE;
	gRegion.pageSize = FLASH_PAGE_SIZE;
	xsmcSetInteger(xsResult, FLASH_SECTOR_SIZE);
}

/* base(): the region's flash offset (for the boot log and docs). */
void xs_agentflash_base(xsMachine *the)
{
	xsmcSetInteger(xsResult, (int)gRegion.base);
}

void xs_agentflash_erase(xsMachine *the)
{
	int block = xsmcToInteger(xsArg(0));
	xsmcSetInteger(xsResult, (block < 0) ? AGENT_FLASH_RANGE : agent_flash_erase(&gRegion, (uint32_t)block));
}

/* Gets (offset, buffer, start, length) and checks start/length against the buffer. */
static uint8_t *bufferRange(xsMachine *the, int writable, uint32_t *offset, uint32_t *length)
{
	void *data;
	xsUnsignedValue count;
	int o = xsmcToInteger(xsArg(0));
	int start = xsmcToInteger(xsArg(2));
	int n = xsmcToInteger(xsArg(3));
	if (writable)
		xsmcGetBufferWritable(xsArg(1), &data, &count);
	else
		xsmcGetBufferReadable(xsArg(1), &data, &count);
	if ((o < 0) || (start < 0) || (n < 0) || ((xsUnsignedValue)start > count) || ((xsUnsignedValue)n > count - (xsUnsignedValue)start))
		return NULL;
	*offset = (uint32_t)o;
	*length = (uint32_t)n;
	return (uint8_t *)data + start;
}

void xs_agentflash_read(xsMachine *the)
{
	uint32_t offset, length;
	uint8_t *into = bufferRange(the, 1, &offset, &length);
	xsmcSetInteger(xsResult, into ? agent_flash_read(&gRegion, offset, into, length) : AGENT_FLASH_RANGE);
}

void xs_agentflash_write(xsMachine *the)
{
	uint32_t offset, length;
	uint8_t *bytes = bufferRange(the, 0, &offset, &length);
	xsmcSetInteger(xsResult, bytes ? agent_flash_write(&gRegion, offset, bytes, length) : AGENT_FLASH_RANGE);
}
