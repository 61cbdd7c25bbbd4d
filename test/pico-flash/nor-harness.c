/*
 * Host test program for the Pico W queue store: links the board's own
 * src/platform/moddable/flash/pico/agent-flash.c over a simulated NOR chip
 * and serves it to Node (test/pico-flash/nor-device.ts) over two FIFOs, so
 * the TypeScript adapter and the queue run on the exact C code of the board.
 *
 * NOR model: erase sets a sector to 0xFF in address order; programming can
 * only clear bits (new = old AND data), in address order. A power cut is a
 * budget of byte operations (each byte programmed or erased costs one, like
 * test/harness/memory-flash.ts): when it runs out the rest of the operation
 * is not done and the chip is off until power-on. Faults: a byte stuck at 1
 * (programming it has no effect), a driver that reports failure.
 *
 * Request: op u8, id u32, a u32, b u32, c u32 (little-endian), then b payload
 * bytes for 'W' and 'L'. Reply: status u8, length u32, data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "agent-flash.h"

#define STATUS_POWER 100

typedef struct {
	uint8_t *bytes;
	agent_flash_region region;
	int64_t budget;
	int dead;
	int halFails;
	int64_t stuck;
	uint32_t bytesWritten, blocksErased;
} chip;

static chip **chips;
static uint32_t chipCount;
static chip *current;

static int spend(void)
{
	if (current->budget == 0) {
		current->dead = 1;
		return 0;
	}
	if (current->budget > 0) current->budget--;
	return 1;
}

int agent_flash_hal_erase(uint32_t offset, uint32_t size)
{
	uint32_t i;
	if (current->dead || current->halFails) return 0;
	for (i = 0; i < size; i++) {
		if (!spend()) return 0;
		current->bytes[offset + i] = 0xFF;
	}
	current->blocksErased++;
	return 1;
}

int agent_flash_hal_program(uint32_t offset, const uint8_t *src, uint32_t size)
{
	uint32_t i;
	if (current->dead || current->halFails) return 0;
	for (i = 0; i < size; i++) {
		if (!spend()) return 0;
		if ((int64_t)(offset + i) != current->stuck) current->bytes[offset + i] &= src[i];
		current->bytesWritten++;
	}
	return 1;
}

int agent_flash_hal_read(uint32_t offset, uint8_t *dst, uint32_t size)
{
	if (current->dead) return 0;
	memcpy(dst, current->bytes + offset, size);
	return 1;
}

static FILE *in, *out;

static uint32_t u32(const uint8_t *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24); }

static void reply(uint8_t status, const uint8_t *data, uint32_t length)
{
	uint8_t h[5] = { status, length & 0xFF, (length >> 8) & 0xFF, (length >> 16) & 0xFF, length >> 24 };
	fwrite(h, 1, 5, out);
	if (length) fwrite(data, 1, length, out);
	fflush(out);
}

int main(int argc, char **argv)
{
	uint8_t h[17];
	uint8_t *buffer = NULL;
	uint32_t bufferSize = 0;
	if (argc != 3) { fprintf(stderr, "usage: nor-harness REQUEST_FIFO REPLY_FIFO\n"); return 2; }
	in = fopen(argv[1], "rb");
	out = fopen(argv[2], "wb");
	if (!in || !out) { perror("fifo"); return 2; }
	while (fread(h, 1, 17, in) == 17) {
		uint8_t op = h[0];
		uint32_t id = u32(h + 1), a = u32(h + 5), b = u32(h + 9), c = u32(h + 13);
		uint8_t status;
		if ((op == 'W') || (op == 'L') || (op == 'R')) {
			if (b > bufferSize) { buffer = realloc(buffer, b); bufferSize = b; }
			if ((op != 'R') && (b != fread(buffer, 1, b, in))) return 3;
		}
		if (op == 'N') {	/* a = sector size, b = sectors, c = page size */
			chip *k = calloc(1, sizeof(chip));
			k->bytes = malloc((size_t)a * b);
			memset(k->bytes, 0xFF, (size_t)a * b);
			k->region.base = 0;
			k->region.byteLength = a * b;
			k->region.sectorSize = a;
			k->region.pageSize = c;
			k->budget = -1;
			k->stuck = -1;
			chips = realloc(chips, sizeof(chip *) * (chipCount + 1));
			chips[chipCount] = k;
			reply(0, (uint8_t *)&chipCount, 4);
			chipCount++;
			continue;
		}
		if (id >= chipCount) { reply(200, NULL, 0); continue; }
		current = chips[id];
		switch (op) {
		case 'E': case 'R': case 'W':
			if (current->dead) { reply(STATUS_POWER, NULL, 0); break; }
			status = (op == 'E') ? agent_flash_erase(&current->region, a)
				: (op == 'R') ? agent_flash_read(&current->region, a, buffer, b)
				: agent_flash_write(&current->region, a, buffer, b);
			if (current->dead) reply(STATUS_POWER, NULL, 0);
			else reply(status, buffer, ((op == 'R') && !status) ? b : 0);
			break;
		case 'C': current->budget = a; reply(0, NULL, 0); break;
		case 'P': current->dead = 0; current->budget = -1; reply(0, NULL, 0); break;
		case 'S': {
			uint32_t s[2] = { current->bytesWritten, current->blocksErased };
			reply(0, (uint8_t *)s, 8);
			break;
		}
		case 'G': reply(0, current->bytes, current->region.byteLength); break;
		case 'L':
			if (b != current->region.byteLength) { reply(201, NULL, 0); break; }
			memcpy(current->bytes, buffer, b);
			reply(0, NULL, 0);
			break;
		case 'F': current->stuck = a; reply(0, NULL, 0); break;
		case 'H': current->halFails = a; reply(0, NULL, 0); break;
		case 'X': free(current->bytes); current->bytes = malloc(1); current->region.byteLength = 0; reply(0, NULL, 0); break;
		default: reply(202, NULL, 0);
		}
	}
	return 0;
}
