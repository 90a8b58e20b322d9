#!/bin/sh
# Not a test: the reproducer of a guest crash that is QEMU's, not etrace's
# (tests/vm/vm.py, ACCEL). Run in a guest:
#   tests/vm/vm.py run 6.12 -- sh tests/vm/stress.sh        (thread=single)
#   ETRACE_VM_ACCEL=tcg tests/vm/vm.py run 6.12 -- sh tests/vm/stress.sh
# It flips two tracepoints' static keys (the kernel live-patches their
# branches with text_poke_bp, an int3 first) while dd makes syscalls on the
# other vCPU and the idle one takes timer softirqs: the code both patch
# sites are in. Under MTTCG the guest dies of "Oops: int3" at
# syscall_trace_enter or handle_softirqs within a few hundred flips.
cd /sys/kernel/tracing || exit 1
dd if=/dev/zero of=/dev/null bs=1 2>/dev/null &
d1=$!
exec 3>events/raw_syscalls/sys_enter/enable 4>events/irq/softirq_entry/enable
end=$(( $(cut -d. -f1 /proc/uptime) + ${STRESS_SECS:-180} ))
i=0
while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
  j=0
  while [ $j -lt 20 ]; do
    echo 1 >&3; echo 1 >&4; echo 0 >&3; echo 0 >&4
    j=$((j+1))
  done
  i=$((i+20))
  echo "stress: $i toggles at $(cut -d" " -f1 /proc/uptime)s"
done
kill $d1
echo "stress: $i toggles, no crash"
