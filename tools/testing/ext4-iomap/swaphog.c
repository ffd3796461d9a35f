// SPDX-License-Identifier: GPL-2.0
/*
 * swaphog - make the kernel swap, and check what comes back
 *
 * Usage: swaphog MIB ROUNDS
 *
 * Maps MIB MiB of anonymous memory, writes into every page its own
 * number and the round, then, ROUNDS times, reads every page back and
 * checks it, and writes it again for the next round.  Run in a memory
 * cgroup whose memory.max is well below MIB, every round pushes most
 * pages out to swap and faults them back in.  Prints "ok MIB MiB, ROUNDS
 * rounds" and exits 0, or "bad page N: ..." and exits 1 at the first
 * page that does not hold what was written; 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void fill(uint64_t *p, size_t words, uint64_t page, uint64_t round)
{
	size_t i;

	for (i = 0; i < words; i++)
		p[i] = (page << 32) ^ (round << 16) ^ i;
}

int main(int argc, char **argv)
{
	size_t pagesz = sysconf(_SC_PAGESIZE), words = pagesz / 8, npages, pg, i;
	unsigned long mib, rounds, r;
	uint64_t *mem, *p;

	if (argc != 3) {
		fprintf(stderr, "usage: swaphog MIB ROUNDS\n");
		return 2;
	}
	mib = strtoul(argv[1], NULL, 0);
	rounds = strtoul(argv[2], NULL, 0);
	npages = (mib << 20) / pagesz;
	mem = mmap(NULL, npages * pagesz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!npages || mem == MAP_FAILED) {
		perror("swaphog: mmap");
		return 2;
	}
	for (pg = 0; pg < npages; pg++)
		fill(mem + pg * words, words, pg, 0);
	for (r = 0; r < rounds; r++) {
		for (pg = 0; pg < npages; pg++) {
			p = mem + pg * words;
			for (i = 0; i < words; i++) {
				if (p[i] != ((pg << 32) ^ (r << 16) ^ i)) {
					printf("bad page %zu: word %zu: %#llx, round %lu: %#llx\n",
					       pg, i, (unsigned long long)p[i], r,
					       (unsigned long long)((pg << 32) ^ (r << 16) ^ i));
					return 1;
				}
			}
			fill(p, words, pg, r + 1);
		}
	}
	printf("ok %lu MiB, %lu rounds\n", mib, rounds);
	return 0;
}
