/*
 * Checked erase/read/write on a raw flash region (see agent-flash.h).
 * Reads and checks go through a small stack buffer so no heap is used.
 */
#include "agent-flash.h"

#define CHECK_CHUNK 64

static int inRange(const agent_flash_region *region, uint32_t offset, uint32_t length)
{
	if (!region || !region->byteLength) return 0;
	return (offset <= region->byteLength) && (length <= region->byteLength - offset);
}

int agent_flash_erase(const agent_flash_region *region, uint32_t block)
{
	uint8_t chunk[CHECK_CHUNK];
	uint32_t start, done;
	if (!region || !region->byteLength) return AGENT_FLASH_NOT_OPEN;
	if (block >= region->byteLength / region->sectorSize) return AGENT_FLASH_RANGE;
	start = region->base + block * region->sectorSize;
	if (!agent_flash_hal_erase(start, region->sectorSize)) return AGENT_FLASH_HAL;
	for (done = 0; done < region->sectorSize; done += CHECK_CHUNK) {
		uint32_t n = region->sectorSize - done, i;
		if (n > CHECK_CHUNK) n = CHECK_CHUNK;
		if (!agent_flash_hal_read(start + done, chunk, n)) return AGENT_FLASH_HAL;
		for (i = 0; i < n; i++)
			if (chunk[i] != 0xFF) return AGENT_FLASH_VERIFY;
	}
	return AGENT_FLASH_OK;
}

int agent_flash_read(const agent_flash_region *region, uint32_t offset, uint8_t *into, uint32_t length)
{
	if (!region || !region->byteLength) return AGENT_FLASH_NOT_OPEN;
	if (!inRange(region, offset, length)) return AGENT_FLASH_RANGE;
	if (!length) return AGENT_FLASH_OK;
	return agent_flash_hal_read(region->base + offset, into, length) ? AGENT_FLASH_OK : AGENT_FLASH_HAL;
}

int agent_flash_write(const agent_flash_region *region, uint32_t offset, const uint8_t *bytes, uint32_t length)
{
	uint8_t page[AGENT_FLASH_MAX_PAGE];
	uint32_t done, i;
	if (!region || !region->byteLength) return AGENT_FLASH_NOT_OPEN;
	if (!inRange(region, offset, length)) return AGENT_FLASH_RANGE;
	if (region->pageSize == 0 || region->pageSize > AGENT_FLASH_MAX_PAGE) return AGENT_FLASH_NOT_OPEN;
	/* Refuse before programming anything: NOR can only clear bits, so a byte
	   that is not erased would silently become old AND new. */
	for (done = 0; done < length; done += CHECK_CHUNK) {
		uint32_t n = length - done;
		if (n > CHECK_CHUNK) n = CHECK_CHUNK;
		if (!agent_flash_hal_read(region->base + offset + done, page, n)) return AGENT_FLASH_HAL;
		for (i = 0; i < n; i++)
			if (page[i] != 0xFF) return AGENT_FLASH_NOT_ERASED;
	}
	/* In address order, one page piece at a time, staged in RAM. */
	for (done = 0; done < length;) {
		uint32_t at = offset + done;
		uint32_t n = region->pageSize - (at % region->pageSize);
		if (n > length - done) n = length - done;
		for (i = 0; i < n; i++) page[i] = bytes[done + i];
		if (!agent_flash_hal_program(region->base + at, page, n)) return AGENT_FLASH_HAL;
		done += n;
	}
	/* Read back: a worn or failing cell is an error, never a silent success. */
	for (done = 0; done < length; done += CHECK_CHUNK) {
		uint32_t n = length - done;
		if (n > CHECK_CHUNK) n = CHECK_CHUNK;
		if (!agent_flash_hal_read(region->base + offset + done, page, n)) return AGENT_FLASH_HAL;
		for (i = 0; i < n; i++)
			if (page[i] != bytes[done + i]) return AGENT_FLASH_VERIFY;
	}
	return AGENT_FLASH_OK;
}
