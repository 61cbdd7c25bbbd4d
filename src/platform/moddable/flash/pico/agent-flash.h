/*
 * A raw NOR flash region for the telemetry queue (portable C: the Pico build
 * links it over the SDK's flash routines, test/pico-flash/ over a simulated
 * NOR chip). Every write is checked: the target bytes must be erased before
 * programming and must read back as written afterwards; an erase must read
 * back all 0xFF. A failure is a status, never a silent success.
 */
#ifndef AGENT_FLASH_H
#define AGENT_FLASH_H

#include <stdint.h>

enum {
	AGENT_FLASH_OK = 0,
	AGENT_FLASH_RANGE = 1,		/* offset, length or block outside the region */
	AGENT_FLASH_HAL = 2,		/* the flash driver reported a failure */
	AGENT_FLASH_NOT_ERASED = 3,	/* a write would program a byte that is not erased (nothing written) */
	AGENT_FLASH_VERIFY = 4,		/* read back differs from what was programmed or erased */
	AGENT_FLASH_NOT_OPEN = 5	/* no region (placement failed or not opened) */
};

/* Programming is split at page boundaries and staged in a RAM buffer this big
   (the source may be in XIP flash, which is unreadable while programming). */
#define AGENT_FLASH_MAX_PAGE 256

typedef struct {
	uint32_t base;			/* offset of the region in the flash device */
	uint32_t byteLength;	/* whole sectors */
	uint32_t sectorSize;	/* erase unit = the queue's block */
	uint32_t pageSize;		/* program unit, <= AGENT_FLASH_MAX_PAGE, divides sectorSize */
} agent_flash_region;

/* Driver hooks, offsets relative to the flash device: 1 on success, 0 on failure. */
extern int agent_flash_hal_erase(uint32_t offset, uint32_t size);
extern int agent_flash_hal_program(uint32_t offset, const uint8_t *src, uint32_t size);
extern int agent_flash_hal_read(uint32_t offset, uint8_t *dst, uint32_t size);

int agent_flash_erase(const agent_flash_region *region, uint32_t block);
int agent_flash_read(const agent_flash_region *region, uint32_t offset, uint8_t *into, uint32_t length);
int agent_flash_write(const agent_flash_region *region, uint32_t offset, const uint8_t *bytes, uint32_t length);

#endif
