# SPDX-License-Identifier: Apache-2.0
# Runs inside an arm64 L1 whose GIC is a GICv2 (L1_GIC=2: KVM there can make no GICv3): kvmini falls back to a vGICv2 with a v2m MSI frame; boots with 1 and 2 vCPUs, 9 refused, disks on mmio and on pci with MSI-X through v2m; PASS/FAIL lines.
# shellcheck shell=sh
. ./l1-lib.sh
dmesg | grep -q "vgic interrupt" && echo "PASS gicv2-l1-has-a-vgic" ||
    { echo "FAIL gicv2-l1-has-a-vgic"; dmesg | grep -i -E "kvm|gic" | head -n 5 | sed 's/^/    /'; }
boot gicv2-boot-1cpu 0 "kvmini: guest powered off"
grep -q "L2-UP" /tmp/gicv2-boot-1cpu.log && echo "PASS gicv2-reached-init" || echo "FAIL gicv2-reached-init"
# (a GICv3 guest's log says "GICv3: N SPIs implemented")
grep -q "GICv3" /tmp/gicv2-boot-1cpu.log && { echo "FAIL gicv2-guest-sees-no-gicv3";
    grep "GICv3" /tmp/gicv2-boot-1cpu.log | head -n 2 | sed 's/^/    /'; } || echo "PASS gicv2-guest-sees-no-gicv3"
boot gicv2-boot-2cpu 0 "L2-CPUS 2" --cpus 2
# KVM allows a GICv2 guest 8 vCPUs; kvmini says so before it starts
boot gicv2-9-cpus-refused 2 "at most 8 vCPUs" --cpus 9
disk gicv2-disk-mmio file --virtio-transport mmio
disk gicv2-disk-pci file --dump-dtb /tmp/gicv2.dtb
# the tree says GICv2 and names the v2m frame; the guest found the frame and its SPIs, and the
# disk's interrupts are MSIs (through v2m: there is no ITS)
grep -q "arm,cortex-a15-gic" /tmp/gicv2.dtb && grep -q "arm,gic-v2m-frame" /tmp/gicv2.dtb &&
    echo "PASS gicv2-device-tree" || echo "FAIL gicv2-device-tree"
grep -q "GICv2m: range\[mem 0x08020000-0x08020fff\], SPI\[96:159\]" /tmp/gicv2-disk-pci.log &&
    echo "PASS gicv2-guest-finds-v2m" || { echo "FAIL gicv2-guest-finds-v2m";
    grep -i "v2m\|GICv2" /tmp/gicv2-disk-pci.log | head -n 3 | sed 's/^/    /'; }
irq=$(grep "L2-IRQ" /tmp/gicv2-disk-pci.log)
case $irq in *MSI*virtio*) true ;; *) false ;; esac && echo "PASS gicv2-disk-pci-uses-msi" ||
    { echo "FAIL gicv2-disk-pci-uses-msi"; grep "L2-IRQ" /tmp/gicv2-disk-pci.log | sed 's/^/    /'; }
dt_clean gicv2-guest-log-has-no-dt-warnings /tmp/gicv2-boot-1cpu.log /tmp/gicv2-boot-2cpu.log \
    /tmp/gicv2-disk-pci.log /tmp/gicv2-disk-mmio.log
