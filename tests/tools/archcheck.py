#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# archcheck: x86-only KVM interfaces, boot protocol, firmware tables and PC ports appear only in x86 files.
"""Usage: tests/tools/archcheck.py [--root DIR]

Reads the code (comments and strings removed) of every .c and .h under vmm/ devices/ virtio/
firmware/ outside an x86/ folder and fails on a name that only x86 has: KVM's x86 ioctls
and structures (sregs, CPUID, MSRs, PIT, TSS, IOAPIC/PIC routing, debug registers), the Linux
boot protocol (boot_params, setup_header, e820, bzImage), the ACPI/MP table builders, the
PC's fixed ports and addresses (firmware/x86/layout.h's LAYOUT_ and PORT_ names), the TSC
and x86 register names, any test of an architecture macro (__x86_64__, __aarch64__, ...) and
any include of an x86/ file. Exit 0 if clean."""
import os
import re
import sys

SRC_DIRS = ("vmm", "devices", "virtio", "firmware")
X86_NAMES = [
    r"KVM_[GS]ET_SREGS2?", r"kvm_sregs2?", r"KVM_[GS]ET_CPUID2?", r"KVM_GET_SUPPORTED_CPUID",
    r"kvm_cpuid2?", r"kvm_cpuid_entry2?", r"KVM_[GS]ET_MSRS", r"kvm_msrs?", r"kvm_msr_entry",
    r"KVM_CREATE_PIT2?", r"KVM_SET_TSS_ADDR", r"KVM_SET_IDENTITY_MAP_ADDR", r"KVM_IRQCHIP_IOAPIC",
    r"KVM_IRQCHIP_PIC_MASTER", r"KVM_IRQCHIP_PIC_SLAVE", r"KVM_[GS]ET_LAPIC", r"kvm_lapic_state",
    r"KVM_[GS]ET_FPU", r"kvm_fpu", r"KVM_TRANSLATE", r"kvm_translation", r"debugreg", r"dr6",
    r"KVM_[GS]ET_VCPU_EVENTS", r"kvm_vcpu_events", r"KVM_[GS]ET_REGS", r"kvm_regs",
    r"boot_params\w*", r"setup_header", r"e820\w*", r"bzimage\w*", r"acpi__\w+", r"acpi_config",
    r"mptable__\w+", r"aml__\w+", r"i8042\w*", r"LAYOUT_\w+", r"PORT_\w+", r"layout__\w+",
    r"x86__\w+", r"KVM_GUESTDBG_USE_HW_BP", r"KVM_GUESTDBG_BLOCKIRQ", r"__rdtsc", r"x86intrin", r"REG_R[A-Z0-9]+", r"REG_E[A-Z]+",
    # no #ifdef on the architecture in generic code either
    r"__x86_64__", r"__i386__", r"__aarch64__", r"__arm__",
]
TOKEN = re.compile(r"\b(" + "|".join(X86_NAMES) + r")\b")
INCLUDE_X86 = re.compile(r'^\s*#\s*include\s+"[^"]*/x86/')
STRIP = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def code_of(text):
    """the text with comments and string/char literals blanked, lines kept"""
    return STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def check(root):
    bad = []
    for d in SRC_DIRS:
        for dp, _, names in os.walk(os.path.join(root, d)):
            rel = os.path.relpath(dp, root)
            if "x86" in rel.split(os.sep):
                continue
            for n in sorted(names):
                if not n.endswith((".c", ".h")):
                    continue
                path = os.path.join(rel, n)
                with open(os.path.join(root, path), errors="replace") as f:
                    text = f.read()
                for i, ln in enumerate(text.splitlines(), 1):
                    if INCLUDE_X86.match(ln):
                        bad.append("%s:%d: includes an x86 file: %s" % (path, i, ln.strip()))
                for i, ln in enumerate(code_of(text).splitlines(), 1):
                    for m in TOKEN.finditer(ln):
                        bad.append("%s:%d: x86-only name in generic code: %s" % (path, i, m.group(1)))
    return bad


def main(argv):
    root = "."
    if argv[:1] == ["--root"] and len(argv) == 2:
        root = argv[1]
    elif argv:
        print(__doc__, file=sys.stderr)
        return 2
    bad = check(root)
    for b in bad:
        print("archcheck: " + b)
    print("archcheck: %d x86-only name(s) outside x86/ files" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
