// SPDX-License-Identifier: GPL-2.0
/*
 * shortwrite - one write(2) whose user buffer is readable only in part
 *
 * Usage: shortwrite FILE OFFSET LENGTH READABLE
 *
 * Maps LENGTH bytes of anonymous memory, fills the first READABLE bytes
 * with 0x5a and makes the rest inaccessible (PROT_NONE), then issues one
 * pwrite(2) of LENGTH bytes at OFFSET to FILE (opened O_WRONLY, created if
 * needed): the kernel can copy only READABLE bytes, so the write comes up
 * short (or fails with EFAULT if READABLE is 0). Prints "wrote N" or
 * "error ERRNO-NAME"; exits 0 either way, 2 on a usage or setup error.
 * xfs_io cannot make a write short this way, which is what a file system's
 * handling of a short copy needs to be tried with.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t len, readable, page = sysconf(_SC_PAGESIZE);
	unsigned char *buf;
	off_t off;
	ssize_t n;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: shortwrite FILE OFFSET LENGTH READABLE\n");
		return 2;
	}
	off = strtoll(argv[2], NULL, 0);
	len = strtoull(argv[3], NULL, 0);
	readable = strtoull(argv[4], NULL, 0);
	if (!len || readable > len || readable % page) {
		fprintf(stderr,
			"shortwrite: READABLE must be page-aligned and at most LENGTH\n");
		return 2;
	}
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("shortwrite: mmap");
		return 2;
	}
	memset(buf, 0x5a, readable);
	if (len > readable &&
	    mprotect(buf + readable, len - readable, PROT_NONE)) {
		perror("shortwrite: mprotect");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		perror("shortwrite: open");
		return 2;
	}
	n = pwrite(fd, buf, len, off);
	if (n < 0)
		printf("error %s\n", strerrorname_np(errno));
	else
		printf("wrote %zd\n", n);
	close(fd);
	return 0;
}
