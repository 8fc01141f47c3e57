# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Where guests run, for every script that boots one (sourced).
#   kvm_where BUILD       sets KVM_KIND (hardware | paravirtual | none, from `BUILD/kvmini host`)
#                         and KVM_LINE (its one line: what backs /dev/kvm and what to do)
#   kvm_boot_direct BUILD true when Linux guests boot directly on this machine: a /dev/kvm on
#                         VT-x/AMD-V (KVMINI_NESTED=0 forces it, =1 forces the nested L1)

kvm_where() {
    if [ -x "$1/kvmini" ]; then
        KVM_LINE=$("$1/kvmini" host 2>&1) || true
    else	# a QEMU-only benchmark run without kvmini built: the same decision, by hand
        if [ ! -c /dev/kvm ]; then
            KVM_LINE="none: /dev/kvm does not exist"
        elif [ -d /sys/module/kvm_pvm ] || ! grep -q -E -w 'vmx|svm' /proc/cpuinfo; then
            KVM_LINE="paravirtual: /dev/kvm: kvm_pvm or no vmx/svm flag"
        else
            KVM_LINE="hardware: /dev/kvm: vmx/svm"
        fi
    fi
    KVM_KIND=${KVM_LINE%%:*}
    case $KVM_KIND in
    hardware|paravirtual|none) ;;
    *) KVM_LINE="none: $1/kvmini host failed: $KVM_LINE"; KVM_KIND=none ;;
    esac
}

kvm_boot_direct() {
    kvm_where "$1"
    case ${KVMINI_NESTED:-auto} in
    0) return 0 ;;
    1) return 1 ;;
    esac
    [ "$KVM_KIND" = hardware ]
}
