/* SPDX-License-Identifier: Apache-2.0 */
/* VM-exit dispatch: port I/O and MMIO to the buses, system events to stop reasons, the rest to a dump. */
#include "vmm/exit.h"

#include <stdio.h>
#include <string.h>
#include <linux/kvm.h>

#include "vmm/debug.h"
#include "vmm/exit_names.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* --strict: an access no device claimed stops the VM, with a dump that names it */
static enum exit_action strict_stop(struct vcpu *v, const char *bus, uint64_t addr, bool write,
				    const void *data, uint32_t len)
{
	char why[160];
	uint64_t value = 0;
	int n = snprintf(why, sizeof(why), "--strict: %s %s of %u byte%s at 0x%llx", bus,
			 write ? "write" : "read", len, len == 1 ? "" : "s", (unsigned long long)addr);

	if (write && len <= 8) {
		memcpy(&value, data, len);
		snprintf(why + n, sizeof(why) - (size_t)n, " (value 0x%llx)", (unsigned long long)value);
	}
	snprintf(why + strlen(why), sizeof(why) - strlen(why), " hit no device");
	if (!vm__stopping(v->vm))
		debug__crash_dump(v, why);
	vm__request_stop(v->vm, VM_STOP_CRASH, 1, "vCPU %u: %s", v->id, why);
	return EXIT_STOP;
}

static enum exit_action handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	__atomic_store_n(&v->io_exits, v->io_exits + 1, __ATOMIC_RELAXED);

	/* `rep ins/outs` arrive as one exit with count > 1 */
	for (uint32_t i = 0; i < run->io.count; i++) {
		uint8_t *d = data + i * run->io.size;
		if (!bus__access(&v->vm->pio, run->io.port, out, d, run->io.size) &&
		    __builtin_expect(v->vm->strict, 0))
			return strict_stop(v, "pio", run->io.port, out, d, run->io.size);
	}
	return EXIT_CONTINUE;
}

static enum exit_action handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	__atomic_store_n(&v->mmio_exits, v->mmio_exits + 1, __ATOMIC_RELAXED);
	if (!bus__access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data,
			 run->mmio.len) && __builtin_expect(v->vm->strict, 0))
		return strict_stop(v, "mmio", run->mmio.phys_addr, run->mmio.is_write,
				   run->mmio.data, run->mmio.len);
	return EXIT_CONTINUE;
}

static enum exit_action handle_system_event(struct vcpu *v)
{
	struct vm *vm = v->vm;

	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm__request_stop(vm, VM_STOP_POWEROFF, 0, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm__request_stop(vm, VM_STOP_REBOOT, 0, "guest rebooted");
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		vm__request_stop(vm, VM_STOP_PANIC, 1, "guest crashed (KVM crash event)");
		break;
	default:
		debug__crash_dump(v, "unknown system event");
		vm__request_stop(vm, VM_STOP_CRASH, 1, "unknown KVM system event %u on vCPU %u",
				 v->run->system_event.type, v->id);
	}
	return EXIT_STOP;
}

static enum exit_action crash(struct vcpu *v, const char *why)
{
	/* after a reboot/poweroff/panic request a guest may still fault its way down (Linux's
	 * reboot falls back to a triple fault): the VM is already stopping for that reason */
	if (!vm__stopping(v->vm))
		debug__crash_dump(v, why);
	vm__request_stop(v->vm, VM_STOP_CRASH, 1, "vCPU %u: %s: %s", v->id,
			 exit__name(v->run->exit_reason), why);
	return EXIT_STOP;
}

static enum exit_action dispatch(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char why[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(v);
	case KVM_EXIT_MMIO:
		return handle_mmio(v);
	case KVM_EXIT_INTR:
		return EXIT_CONTINUE;
	case KVM_EXIT_SYSTEM_EVENT:
		return handle_system_event(v);
	case KVM_EXIT_DEBUG:	/* a breakpoint or step for gdb; ignored without it */
		return debug__stop_event(v);
	case KVM_EXIT_HLT:
		vm__request_stop(v->vm, VM_STOP_CRASH, 1, "vCPU %u halted with nothing to wake it",
				 v->id);
		return EXIT_STOP;
	case KVM_EXIT_SHUTDOWN:
		return crash(v, "triple fault");
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return crash(v, why);
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "KVM internal error, suberror %u", run->internal.suberror);
		return crash(v, why);
	default:
		snprintf(why, sizeof(why), "unexpected exit reason %u", run->exit_reason);
		return crash(v, why);
	}
}

/* --exit-stats and/or --trace-exits: dispatch timed, then recorded */
static enum exit_action dispatch_observed(struct vcpu *v)
{
	uint64_t t0 = debug__now_ns();
	enum exit_action action = dispatch(v);

	debug__record(v, t0, debug__now_ns() - t0);
	return action;
}

enum exit_action exit__handle(struct vcpu *v)
{
	enum exit_action action = debug__timing(v) ? dispatch_observed(v) : dispatch(v);

	debug__after_exit(v);
	return action;
}
