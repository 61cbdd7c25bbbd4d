/*
 * Host test program: the Moddable SDK's own littlefs (2.5,
 * $MODDABLE/modules/files/file/littlefs/lfs.c) on a simulated Pico W flash
 * chip, configured as the SDK's modLittlefs.c configures it on Pico (4 KiB
 * blocks, read/prog/cache/lookahead 16, block_cycles 500, a partition that
 * ends at kModulesEnd), next to the agent's raw queue region placed as
 * modAgentFlash.c places it and written through the board's agent-flash.c.
 * test/moddable-pico.test.ts runs it and checks what it prints (one JSON
 * object per scenario).
 *
 *   old-file  The store the agent used before (one queue image file written in
 *             place: open, seek, write, close, littlefs mounted per call as the
 *             SDK does). For each write: did close fail, and is the data there
 *             after a remount? A write whose close failed but which the SDK
 *             reported as done (it ignores close) is a silent loss.
 *   layout    The shipped Pico W layout: the queue region (64 sectors) just
 *             below a 64 KiB littlefs partition. Queue appends (agent-flash.c)
 *             interleave with littlefs file rewrites, a power cut lands at a
 *             random byte operation in each run (if the run gets that far); after power-on littlefs must
 *             mount, every file whose close returned 0 must read back (or, if
 *             the cut hit its rewrite, hold the new content; a file the cut
 *             hit while it was being created may exist empty: littlefs commits
 *             the name at open, counted apart), every append that
 *             returned OK must read back, and no byte outside the two regions
 *             may have changed.
 *
 * NOR model as in nor-harness.c: erase sets 0xFF, programming only clears
 * bits, a power cut is a budget of byte operations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "lfs.h"
#include "agent-flash.h"

#define FLASH_SIZE (2u * 1024 * 1024)	/* Pico W: 2 MiB QSPI flash */
#define SECTOR 4096u
#define PAGE 256u
/* The SDK's Pico layout: preferences in the top sectors, littlefs below (xsHost.c). */
#define MODULES_END (FLASH_SIZE - 8u * SECTOR)
/* End of the agent image with the update code (boards/pico_w/README.md, measured). */
#define IMAGE_END 0x0013D39Cu

static uint8_t chip[FLASH_SIZE];
static uint8_t reference[FLASH_SIZE];
static int64_t budget = -1;			/* byte operations until the power cut; -1: none */
static int dead;
static uint32_t erases, programmed;

static int spend(void)
{
	if (budget == 0) {
		dead = 1;
		return 0;
	}
	if (budget > 0) budget--;
	return 1;
}

static int nor_erase(uint32_t offset, uint32_t size)
{
	uint32_t i;
	if (dead || (offset % SECTOR) || (size % SECTOR) || (offset + size > FLASH_SIZE)) return 0;
	for (i = 0; i < size; i++) {
		if (!spend()) return 0;
		chip[offset + i] = 0xFF;
	}
	erases += size / SECTOR;
	return 1;
}

static int nor_program(uint32_t offset, const uint8_t *src, uint32_t size)
{
	uint32_t i;
	if (dead || (offset + size > FLASH_SIZE)) return 0;
	for (i = 0; i < size; i++) {
		if (!spend()) return 0;
		chip[offset + i] &= src[i];
		programmed++;
	}
	return 1;
}

static int nor_read(uint32_t offset, uint8_t *dst, uint32_t size)
{
	if (dead || (offset + size > FLASH_SIZE)) return 0;
	memcpy(dst, chip + offset, size);
	return 1;
}

/* agent-flash.c's driver hooks (the Pico build binds them to modSPIErase/Write/Read). */
int agent_flash_hal_erase(uint32_t offset, uint32_t size) { return nor_erase(offset, size); }
int agent_flash_hal_program(uint32_t offset, const uint8_t *src, uint32_t size) { return nor_program(offset, src, size); }
int agent_flash_hal_read(uint32_t offset, uint8_t *dst, uint32_t size) { return nor_read(offset, dst, size); }

/* littlefs block device, as modLittlefs.c's PICO_BUILD functions: partition offset + block * sector. */
static uint32_t lfsOffset;

static int bd_read(const struct lfs_config *c, lfs_block_t block, lfs_off_t off, void *buffer, lfs_size_t size)
{
	return nor_read(lfsOffset + block * c->block_size + off, buffer, size) ? 0 : -1;
}
static int bd_prog(const struct lfs_config *c, lfs_block_t block, lfs_off_t off, const void *buffer, lfs_size_t size)
{
	return nor_program(lfsOffset + block * c->block_size + off, buffer, size) ? 0 : -1;
}
static int bd_erase(const struct lfs_config *c, lfs_block_t block)
{
	return nor_erase(lfsOffset + block * c->block_size, c->block_size) ? 0 : -1;
}
static int bd_sync(const struct lfs_config *c) { (void)c; return 0; }
static int bd_lock(const struct lfs_config *c) { (void)c; return 0; }
static int bd_unlock(const struct lfs_config *c) { (void)c; return 0; }

static struct lfs_config cfg;
static lfs_t lfs;

/* modLittlefs.c's startLittlefs for PICO_BUILD, with its default MODDEF_FILE_LFS_* values. */
static void configure(uint32_t partitionSize)
{
	lfsOffset = MODULES_END - partitionSize;
	memset(&cfg, 0, sizeof(cfg));
	cfg.read = bd_read;
	cfg.prog = bd_prog;
	cfg.erase = bd_erase;
	cfg.sync = bd_sync;
	cfg.lock = bd_lock;
	cfg.unlock = bd_unlock;
	cfg.read_size = 16;
	cfg.prog_size = 16;
	cfg.block_size = SECTOR;
	cfg.block_count = partitionSize / SECTOR;
	cfg.cache_size = 16;
	cfg.lookahead_size = 16;
	cfg.block_cycles = 500;
}

/* As startLittlefs: mount, and format then mount when the mount fails. */
static int mount(void)
{
	int err = lfs_mount(&lfs, &cfg);
	if (err) {
		lfs_format(&lfs, &cfg);
		err = lfs_mount(&lfs, &cfg);
	}
	return err;
}

static uint32_t rng = 1;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	uint32_t i;
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* ---- old-file: the queue image as one littlefs file, written in place ---- */

static int old_file(uint32_t partitionSize, uint32_t fileBlocks, uint32_t writes, uint32_t recordBytes)
{
	static uint8_t block[SECTOR], want[SECTOR], got[SECTOR];
	uint32_t fileSize = fileBlocks * SECTOR, i, closeFailed = 0, writeFailed = 0, silentLoss = 0, startErases;
	int created = 1;
	lfs_file_t f;

	memset(chip, 0xFF, sizeof(chip));
	erases = programmed = 0;
	configure(partitionSize);
	if (mount()) return printf("{\"scenario\":\"old-file\",\"error\":\"mount\"}\n"), 1;
	/* FileFlash.create: the image full of 0xFF, written a block at a time, closed. */
	memset(block, 0xFF, sizeof(block));
	if (lfs_file_open(&lfs, &f, "queue", LFS_O_RDWR | LFS_O_CREAT | LFS_O_TRUNC) < 0) created = 0;
	else {
		for (i = 0; i < fileBlocks; i++)
			if (lfs_file_write(&lfs, &f, block, SECTOR) != (lfs_ssize_t)SECTOR) created = 0;
		if (lfs_file_close(&lfs, &f) < 0) created = 0;
	}
	lfs_unmount(&lfs);
	startErases = erases;
	for (i = 0; created && (i < writes); i++) {
		/* Records spread over the whole image, as the queue's ring does. */
		uint32_t offset = (uint32_t)(((uint64_t)i * 7919u * recordBytes) % (fileSize - recordBytes));
		int closeErr, ok;
		fill(want, recordBytes, i + 1);
		if (mount()) break;
		if (lfs_file_open(&lfs, &f, "queue", LFS_O_RDWR) < 0) { writeFailed++; lfs_unmount(&lfs); continue; }
		lfs_file_seek(&lfs, &f, offset, LFS_SEEK_SET);
		if (lfs_file_write(&lfs, &f, want, recordBytes) != (lfs_ssize_t)recordBytes) writeFailed++;
		closeErr = lfs_file_close(&lfs, &f);
		lfs_unmount(&lfs);
		if (closeErr < 0) closeFailed++;
		/* Read back after a remount: is the write there? */
		ok = 0;
		if (!mount()) {
			if (lfs_file_open(&lfs, &f, "queue", LFS_O_RDONLY) >= 0) {
				lfs_file_seek(&lfs, &f, offset, LFS_SEEK_SET);
				ok = (lfs_file_read(&lfs, &f, got, recordBytes) == (lfs_ssize_t)recordBytes) && !memcmp(got, want, recordBytes);
				lfs_file_close(&lfs, &f);
			}
			lfs_unmount(&lfs);
		}
		/* The SDK throws for a failed write but not for a failed close. */
		if (!ok && (closeErr < 0)) silentLoss++;
	}
	printf("{\"scenario\":\"old-file\",\"partitionBlocks\":%u,\"fileBlocks\":%u,\"recordBytes\":%u,\"created\":%s,"
		"\"writes\":%u,\"writeFailed\":%u,\"closeFailed\":%u,\"silentLossUnderSdk\":%u,\"erasesPerWrite\":%.2f}\n",
		partitionSize / SECTOR, fileBlocks, recordBytes, created ? "true" : "false", i, writeFailed, closeFailed, silentLoss,
		i ? (double)(erases - startErases) / i : 0.0);
	return 0;
}

/* ---- layout: queue region and littlefs side by side, with power cuts ---- */

#define FILES 4
#define MAX_FILE 2048
#define QUEUE_BLOCKS 64
#define RECORD 76u		/* 12-byte header + 64-byte payload, as the queue writes */
#define MAX_RECORDS (QUEUE_BLOCKS * (SECTOR / RECORD))

typedef struct { uint32_t size, seed; int present; } file_state;
typedef struct { uint32_t offset, seed; } record_state;

static file_state committed[FILES], inflight[FILES];
static int hasInflight[FILES];
static record_state records[MAX_RECORDS];
static uint32_t recordCount;

static int check_file(int k, const file_state *s)
{
	static uint8_t want[MAX_FILE], got[MAX_FILE];
	char name[8];
	lfs_file_t f;
	int ok;
	snprintf(name, sizeof(name), "f%d", k);
	if (!s->present) {
		struct lfs_info info;
		return lfs_stat(&lfs, name, &info) < 0;
	}
	if (lfs_file_open(&lfs, &f, name, LFS_O_RDONLY) < 0) return 0;
	fill(want, s->size, s->seed);
	ok = (lfs_file_size(&lfs, &f) == (lfs_soff_t)s->size) && (lfs_file_read(&lfs, &f, got, s->size) == (lfs_ssize_t)s->size) && !memcmp(got, want, s->size);
	lfs_file_close(&lfs, &f);
	return ok;
}

static int layout(uint32_t runs, uint32_t rounds, int overlap)
{
	static uint8_t buf[MAX_FILE];
	agent_flash_region region;
	uint32_t regionsEnd;
	uint32_t run, cutsInLfs = 0, cutsInQueue = 0, mountFailures = 0, fileLoss = 0, emptyAfterCutCreate = 0, recordLoss = 0, outside = 0;
	uint32_t fileWrites = 0, fileCloseFailed = 0, appends = 0, appendFailed = 0;

	configure(65536);	/* MODDEF_FILE_LFS_PARTITION_SIZE default (the shipped build) */
	region.byteLength = QUEUE_BLOCKS * SECTOR;
	region.sectorSize = SECTOR;
	region.pageSize = PAGE;
	region.base = lfsOffset - region.byteLength;	/* modAgentFlash.c: just below littlefs */
	if (overlap) region.base += cfg.block_count * SECTOR;	/* negative control: the queue's last sectors are littlefs' partition */
	regionsEnd = region.base + region.byteLength;
	if (regionsEnd < lfsOffset + cfg.block_count * SECTOR) regionsEnd = lfsOffset + cfg.block_count * SECTOR;
	if (region.base < IMAGE_END) return printf("{\"scenario\":\"layout\",\"error\":\"region overlaps the image\"}\n"), 1;

	for (run = 0; run < runs; run++) {
		uint32_t round, i, cursor = 0, cutAt;
		int k, inLfs = 0;
		rng = 0x9E3779B9u ^ (run * 2654435761u);
		/* Everything outside the two regions is the image and the preferences: a pattern to compare. */
		for (i = 0; i < FLASH_SIZE; i++) chip[i] = (uint8_t)(i * 31 + run);
		memset(chip + region.base, 0xFF, regionsEnd - region.base);
		memcpy(reference, chip, sizeof(chip));
		memset(committed, 0, sizeof(committed));
		memset(hasInflight, 0, sizeof(hasInflight));
		recordCount = 0;
		dead = 0;
		budget = -1;
		if (mount()) { mountFailures++; continue; }
		/* The ring's position at boot: any sector, so every sector is written across the runs. */
		cursor = (next() % QUEUE_BLOCKS) * SECTOR;
		if (overlap) cursor = (QUEUE_BLOCKS - cfg.block_count) * SECTOR;
		/* A cut somewhere in the run (byte operations: erases cost 4096). */
		cutAt = next() % (rounds * 12000u) + 1;
		budget = cutAt;
		for (round = 0; (round < rounds) && !dead; round++) {
			/* A few queue appends: a new sector is erased before its first record. */
			uint32_t n = next() % 8 + 1;
			for (i = 0; (i < n) && !dead; i++) {
				uint32_t offset = cursor, seed = next(), j;
				uint8_t rec[RECORD];
				int status;
				inLfs = 0;	/* a cut from here on is a cut in the queue */
				if ((offset % SECTOR) + RECORD > SECTOR) offset = cursor = (offset / SECTOR + 1) * SECTOR;
				if (offset >= region.byteLength) offset = cursor = 0;
				if ((offset % SECTOR) == 0) {
					if (agent_flash_erase(&region, offset / SECTOR) != AGENT_FLASH_OK) break;
					/* Records in that sector are gone by design (the ring moved on). */
					for (j = 0; j < recordCount;)
						if (records[j].offset / SECTOR == offset / SECTOR) records[j] = records[--recordCount];
						else j++;
				}
				fill(rec, RECORD, seed);
				appends++;
				status = agent_flash_write(&region, offset, rec, RECORD);
				if (status == AGENT_FLASH_OK) {
					records[recordCount].offset = offset;
					records[recordCount].seed = seed;
					recordCount++;
				}
				else appendFailed++;
				cursor = offset + RECORD;
			}
			if (dead) break;
			/* A littlefs file rewritten (or deleted now and then), close checked. */
			k = (int)(next() % FILES);
			{
				char name[8];
				lfs_file_t f;
				file_state s;
				int err;
				snprintf(name, sizeof(name), "f%d", k);
				inLfs = 1;
				inflight[k] = committed[k];
				hasInflight[k] = 1;
				if ((next() % 10) == 0) {
					s.present = 0;
					s.size = s.seed = 0;
					inflight[k] = s;
					if (lfs_remove(&lfs, name) == 0 || !committed[k].present) committed[k] = s;
				}
				else {
					s.present = 1;
					s.size = next() % MAX_FILE + 1;
					s.seed = next();
					inflight[k] = s;
					fill(buf, s.size, s.seed);
					fileWrites++;
					err = lfs_file_open(&lfs, &f, name, LFS_O_WRONLY | LFS_O_CREAT | LFS_O_TRUNC);
					if (err >= 0) {
						if (lfs_file_write(&lfs, &f, buf, s.size) != (lfs_ssize_t)s.size) err = -1;
						if (lfs_file_close(&lfs, &f) < 0) err = -1;
					}
					if (err >= 0) committed[k] = s;
					else if (!dead) fileCloseFailed++;
				}
				if (!dead) hasInflight[k] = 0;
			}
		}
		if (dead) {
			if (inLfs) cutsInLfs++;
			else cutsInQueue++;
		}
		/* Power on: a fresh mount, then every committed write must be there. */
		dead = 0;
		budget = -1;
		memset(&lfs, 0, sizeof(lfs));
		if (lfs_mount(&lfs, &cfg)) { mountFailures++; continue; }
		for (k = 0; k < FILES; k++) {
			/* littlefs commits a new file's name at open: a cut before close leaves it empty. */
			file_state empty = { 0, 0, 1 };
			if (check_file(k, &committed[k]) || (hasInflight[k] && check_file(k, &inflight[k]))) continue;
			if (hasInflight[k] && !committed[k].present && check_file(k, &empty)) emptyAfterCutCreate++;
			else fileLoss++;
		}
		lfs_unmount(&lfs);
		for (i = 0; i < recordCount; i++) {
			uint8_t want[RECORD], got[RECORD];
			fill(want, RECORD, records[i].seed);
			if ((agent_flash_read(&region, records[i].offset, got, RECORD) != AGENT_FLASH_OK) || memcmp(got, want, RECORD)) recordLoss++;
		}
		for (i = 0; i < FLASH_SIZE; i++) {
			if ((i >= region.base) && (i < regionsEnd)) continue;
			if (chip[i] != reference[i]) outside++;
		}
	}
	printf("{\"scenario\":\"layout\",\"queueBase\":%u,\"queueBytes\":%u,\"lfsOffset\":%u,\"lfsBlocks\":%u,\"imageEnd\":%u,"
		"\"runs\":%u,\"cutsInQueue\":%u,\"cutsInLittlefs\":%u,\"appends\":%u,\"appendFailed\":%u,\"fileWrites\":%u,\"fileCloseFailed\":%u,"
		"\"mountFailures\":%u,\"fileLoss\":%u,\"emptyAfterCutCreate\":%u,\"recordLoss\":%u,\"bytesChangedOutsideRegions\":%u}\n",
		region.base, region.byteLength, lfsOffset, cfg.block_count, IMAGE_END, runs, cutsInQueue, cutsInLfs, appends, appendFailed,
		fileWrites, fileCloseFailed, mountFailures, fileLoss, emptyAfterCutCreate, recordLoss, outside);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc >= 6) && !strcmp(argv[1], "old-file"))
		return old_file((uint32_t)atoi(argv[2]) * SECTOR, (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[5]));
	if ((argc >= 4) && !strcmp(argv[1], "layout"))
		return layout((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]), (argc >= 5) && !strcmp(argv[4], "overlap"));
	fprintf(stderr, "usage: lfs-harness old-file PARTITION_BLOCKS FILE_BLOCKS WRITES RECORD_BYTES | layout RUNS ROUNDS [overlap]\n");
	return 2;
}
