/* SPDX-License-Identifier: Apache-2.0 */
/* acpi-dump OUTDIR [NCPUS] [NVIRTIO] [pci]: builds the ACPI tables and writes each as OUTDIR/<sig>.dat. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/x86/acpi.h"
#include "firmware/x86/layout.h"

#define RESET_VALUE_I8042 0xfe   /* i8042 "pulse reset line" command */
#define VIRTIO_IRQ_BASE   5      /* illustrative GSIs: the dump only needs plausible values */

static int parse_count(const char *s, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void standard_config(struct acpi_config *cfg, unsigned ncpus, unsigned nvirtio)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = ncpus;
	cfg->lapic_addr = (uint32_t)LAYOUT_LAPIC;
	cfg->ioapic_addr = (uint32_t)LAYOUT_IOAPIC;
	cfg->sleep_ctl_port = PORT_ACPI_SLEEP_CTL;
	cfg->sleep_sts_port = PORT_ACPI_SLEEP_STS;
	cfg->reset_port = PORT_I8042_CMD;
	cfg->reset_value = RESET_VALUE_I8042;
	cfg->com1_port = PORT_COM1;
	cfg->com1_irq = IRQ_COM1;
	cfg->pvpanic_port = PORT_PVPANIC;
	cfg->kbd_data_port = PORT_I8042_DATA;
	cfg->kbd_cmd_port = PORT_I8042_CMD;
	cfg->kbd_irq = IRQ_KBD;
	cfg->ged_gsi = IRQ_GED;
	cfg->n_virtio_mmio = nvirtio;
	for (unsigned i = 0; i < nvirtio; i++) {
		cfg->virtio_mmio[i].base = LAYOUT_VIRTIO_MMIO + i * LAYOUT_VIRTIO_MMIO_SIZE;
		cfg->virtio_mmio[i].size = LAYOUT_VIRTIO_MMIO_SIZE;
		cfg->virtio_mmio[i].irq = VIRTIO_IRQ_BASE + i;
	}
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = (v << 8) | p[n];
	return v;
}

/* The built tables, as the guest would see them at LAYOUT_ACPI. */
struct image {
	const uint8_t *p;
	size_t used;
};

/* The table at guest address gpa, or NULL if it does not lie inside the image. */
static const uint8_t *table_at(const struct image *img, uint64_t gpa)
{
	if (gpa < LAYOUT_ACPI || gpa - LAYOUT_ACPI + 36 > img->used)
		return NULL;
	size_t off = (size_t)(gpa - LAYOUT_ACPI);
	if (get_le(img->p + off + 4, 4) > img->used - off)
		return NULL;
	return img->p + off;
}

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "acpi-dump: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes a table as <signature, lower case>.dat */
static int write_table(const char *dir, const uint8_t *t)
{
	char name[5];
	for (int i = 0; i < 4; i++)
		name[i] = (char)tolower(t[i]);
	name[4] = '\0';
	return write_file(dir, name, t, (size_t)get_le(t + 4, 4));
}

/* Follows RSDP -> XSDT -> {FADT -> DSDT, MADT} and writes every table found, plus the whole
 * image (as the guest sees it at LAYOUT_ACPI) so that the pointers can be checked. */
static int dump(const char *dir, const struct image *img, uint64_t rsdp_gpa)
{
	const uint8_t *rsdp = img->p + (rsdp_gpa - LAYOUT_ACPI);
	const uint8_t *xsdt = table_at(img, get_le(rsdp + 24, 8));
	if (write_file(dir, "image", img->p, img->used) || write_file(dir, "rsdp", rsdp, 36) ||
	    !xsdt || write_table(dir, xsdt))
		return -1;
	for (size_t off = 36; off + 8 <= get_le(xsdt + 4, 4); off += 8) {
		const uint8_t *t = table_at(img, get_le(xsdt + off, 8));
		if (!t || write_table(dir, t))
			return -1;
		if (!memcmp(t, "FACP", 4)) {
			const uint8_t *dsdt = table_at(img, get_le(t + 140, 8));
			if (!dsdt || write_table(dir, dsdt))
				return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned ncpus = 1, nvirtio = 0;

	if (argc < 2 || argc > 5 ||
	    (argc > 2 && parse_count(argv[2], 255, &ncpus)) ||
	    (argc > 3 && parse_count(argv[3], ACPI_MAX_VIRTIO_MMIO, &nvirtio)) ||
	    (argc > 4 && strcmp(argv[4], "pci"))) {
		fprintf(stderr, "usage: acpi-dump OUTDIR [NCPUS 1..255] [NVIRTIO 0..%d] [pci]\n",
			ACPI_MAX_VIRTIO_MMIO);
		return 2;
	}

	struct acpi_config cfg;
	standard_config(&cfg, ncpus, nvirtio);
	if (argc > 4)	/* the PCI root bridge as --virtio-transport pci sets it up */
		cfg.pci = (struct acpi_pci){
			.ecam_base = LAYOUT_PCI_ECAM, .bus_end = 0,
			.mmio_base = (uint32_t)LAYOUT_PCI_MMIO, .mmio_size = (uint32_t)LAYOUT_PCI_MMIO_SIZE,
			.io_base = PORT_PCI_IO_WINDOW, .io_size = (uint16_t)(0x10000 - PORT_PCI_IO_WINDOW),
			.cf8_port = PORT_PCI_CF8, .intx_slots = 2,
		};
	uint8_t *buf = calloc(1, LAYOUT_ACPI_SIZE);
	uint64_t rsdp_gpa;
	long used = buf ? acpi__build(&cfg, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &rsdp_gpa) : -ENOMEM;
	if (used < 0) {
		fprintf(stderr, "acpi-dump: acpi__build: %s\n", strerror((int)-used));
		free(buf);
		return 1;
	}
	struct image img = { buf, (size_t)used };
	int err = dump(argv[1], &img, rsdp_gpa);
	if (err)
		fprintf(stderr, "acpi-dump: could not write every table\n");
	free(buf);
	return err ? 1 : 0;
}
