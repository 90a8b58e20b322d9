// SPDX-License-Identifier: GPL-2.0
/*
 * etrace kernel side: scoping to the target's task tree and the syscall
 * sequence.
 *
 * Scoping: a task is traced when it has task-local storage (struct et_task)
 * with traced set. The launcher creates it for its held child (through a
 * pidfd); sched_process_fork copies it to every new thread and process.
 * Every other task on the machine pays one storage lookup and returns.
 *
 * Syscalls: sys_enter fills the in-flight record in the task's storage
 * (arguments, strings and buffers the capture plan asks for); sys_exit adds
 * the return value and output buffers and sends the record in one ring
 * buffer write. Per-syscall totals are also kept in a per-CPU array, so the
 * summary stays exact when the ring buffer overflows.
 *
 * The object's programs and helpers are in bpf/core/, one file per job
 * (settings and maps, argument capture, syscalls, processes, signals),
 * included below: one object, as the skeleton and user space see it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "shared.h"

char LICENSE[] SEC("license") = "GPL";

/* The parts, in this order (each uses what the ones before declare). */
#include "core/config.h"
#include "core/capture.h"
#include "core/syscalls.h"
#include "core/process.h"
#include "core/signals.h"
