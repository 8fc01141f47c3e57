/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 KVM smoke test, run inside the emulated arm64 L1: a VM with a GICv3, one vCPU with PSCI 0.2, a payload's MMIO exits and its SYSTEM_OFF. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#define RAM      0x40000000ULL
#define RAM_SIZE (2ULL << 20)
#define GICD     0x08000000ULL
#define GICR     0x080a0000ULL

static int fails;

static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	fails += !ok;
}

static int die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

static int set_pc(int vcpu, uint64_t pc)
{
	struct kvm_one_reg r = {
		.id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
		      KVM_REG_ARM_CORE_REG(regs.pc),
		.addr = (uint64_t)(uintptr_t)&pc,
	};
	return ioctl(vcpu, KVM_SET_ONE_REG, &r);
}

/* a GICv3 at the board's addresses, initialised once the vCPU exists */
static int add_gic(int vm)
{
	struct kvm_create_device d = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	uint64_t dist = GICD, redist = GICR;

	if (ioctl(vm, KVM_CREATE_DEVICE, &d) < 0)
		return -1;
	struct kvm_device_attr a[] = {
		{ .group = KVM_DEV_ARM_VGIC_GRP_ADDR, .attr = KVM_VGIC_V3_ADDR_TYPE_DIST,
		  .addr = (uint64_t)(uintptr_t)&dist },
		{ .group = KVM_DEV_ARM_VGIC_GRP_ADDR, .attr = KVM_VGIC_V3_ADDR_TYPE_REDIST,
		  .addr = (uint64_t)(uintptr_t)&redist },
		{ .group = KVM_DEV_ARM_VGIC_GRP_CTRL, .attr = KVM_DEV_ARM_VGIC_CTRL_INIT },
	};
	for (unsigned i = 0; i < 3; i++)
		if (ioctl(d.fd, KVM_SET_DEVICE_ATTR, &a[i]) < 0)
			return -1;
	return 0;
}

/* runs the payload to its SYSTEM_OFF, answering its MMIO accesses */
static void run(int vcpu, struct kvm_run *r)
{
	unsigned writes = 0, reads = 0;
	uint32_t back = 0;

	for (int n = 0; n < 100; n++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			die("KVM_RUN");
			fails++;
			return;
		}
		if (r->exit_reason == KVM_EXIT_MMIO && r->mmio.is_write) {
			writes++;
			if (r->mmio.phys_addr == 0x09000000)
				check(r->mmio.len == 1 && r->mmio.data[0] == 'K', "mmio-write-byte");
			else
				memcpy(&back, r->mmio.data, 4);
		} else if (r->exit_reason == KVM_EXIT_MMIO) {
			reads++;
			uint32_t v = 0x1234;
			check(r->mmio.phys_addr == 0x09000004 && r->mmio.len == 4, "mmio-read-exit");
			memcpy(r->mmio.data, &v, 4);
		} else if (r->exit_reason == KVM_EXIT_SYSTEM_EVENT) {
			check(r->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN, "psci-system-off");
			check(writes == 2 && reads == 1 && back == 0x1235, "mmio-read-data-reached-guest");
			return;
		} else {
			printf("FAIL unexpected exit reason %u\n", r->exit_reason);
			fails++;
			return;
		}
	}
	check(0, "payload-finished");
}

int main(int argc, char **argv)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), fd;
	if (kvm < 0)
		return die("open /dev/kvm");
	check(ioctl(kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION, "api-version");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return die("KVM_CREATE_VM");
	uint8_t *mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region slot = { .guest_phys_addr = RAM, .memory_size = RAM_SIZE,
						    .userspace_addr = (uint64_t)(uintptr_t)mem };
	if (mem == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return die("guest RAM");
	if (argc < 2 || (fd = open(argv[1], O_RDONLY)) < 0 || read(fd, mem, 4096) <= 0)
		return die("payload (kvm-smoke PAYLOAD.bin)");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	struct kvm_vcpu_init init;
	if (vcpu < 0 || ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return die("vCPU");
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	check(ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) == 0, "vcpu-init-psci-0.2");
	check(add_gic(vm) == 0, "vgic-v3");
	check(set_pc(vcpu, RAM) == 0, "set-pc");
	long sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *r = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (r == MAP_FAILED)
		return die("kvm_run");
	run(vcpu, r);
	printf("kvm-smoke: %s\n", fails ? "FAILED" : "ok");
	return fails != 0;
}
